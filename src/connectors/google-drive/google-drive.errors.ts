import {
  AuthExpiredError,
  ConnectorError,
  FatalError,
  InvalidRangeError,
  isAbortError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
  UnsupportedError,
} from '../connector.errors.js';

/** What we read from a GaxiosError without importing gaxios (it is the SDK's transitive dependency). */
export interface HttpErrorInfo {
  status?: number;
  reason?: string;
  message?: string;
  /** OAuth token endpoint error (`invalid_grant`...). */
  oauthError?: string;
  retryAfter?: string;
}

interface GaxiosLike {
  status?: number;
  response?: { status?: number; data?: unknown; headers?: unknown };
}

export function httpErrorInfo(e: unknown): HttpErrorInfo | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const g = e as GaxiosLike;
  const status = g.response?.status ?? g.status;
  if (typeof status !== 'number') return undefined;
  let data = g.response?.data;
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    // responseType 'stream' errors: gaxios drained the body to a string.
    try {
      data = JSON.parse(String(data)) as unknown;
    } catch {
      data = undefined;
    }
  }
  const info: HttpErrorInfo = { status };
  const err = (data as { error?: unknown } | undefined)?.error;
  if (typeof err === 'string') {
    info.oauthError = err;
    info.message = (data as { error_description?: string }).error_description;
  } else if (err && typeof err === 'object') {
    const body = err as { message?: string; errors?: Array<{ reason?: string }> };
    info.message = body.message;
    info.reason = body.errors?.[0]?.reason;
  }
  info.retryAfter = headerOf(g.response?.headers, 'retry-after');
  return info;
}

export function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function')
    return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function httpStatusOf(e: unknown): number | undefined {
  return httpErrorInfo(e)?.status;
}

const RATE_LIMIT_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded']);
const QUOTA_REASONS = new Set([
  'dailyLimitExceeded',
  'storageQuotaExceeded',
  'teamDriveFileLimitExceeded',
  'quotaExceeded',
  'numChildrenInNonRootLimitExceeded',
]);

/**
 * Maps an SDK (gaxios) error to a connector error. 403 is both "forbidden" and "slow down", so
 * the decision is made on `error.errors[0].reason`, never on the status alone.
 */
export function mapDriveError(e: unknown, what: string, now = Date.now()): Error {
  if (e instanceof ConnectorError || isAbortError(e)) return e as Error;
  const info = httpErrorInfo(e);
  if (!info) {
    // No HTTP answer: the connection failed (reset, refused, cut mid-body). Worth another try.
    return new TransientError(
      `google-drive: network error during ${what}: ${(e as Error)?.message ?? String(e)}`,
      {
        cause: e,
        providerCode: (e as { code?: string })?.code,
      },
    );
  }
  const { reason } = info;
  const status = info.status ?? 0;
  const opts = { cause: e, providerCode: reason ?? info.oauthError ?? String(status) };
  const detail = info.message ? `: ${info.message}` : '';
  if (info.oauthError === 'invalid_grant') {
    return new AuthExpiredError(
      `google-drive: the refresh token was rejected (${info.message ?? 'invalid_grant'}); re-authentication needed`,
      opts,
    );
  }
  if (info.oauthError === 'invalid_client' || info.oauthError === 'unauthorized_client') {
    return new AuthExpiredError(
      `google-drive: the OAuth client was rejected (${info.oauthError}); check the client id and secret`,
      opts,
    );
  }
  const retryAfterMs = parseRetryAfter(info.retryAfter, now);
  if (
    status === 429 ||
    (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason))
  ) {
    return new RateLimitedError(`google-drive: rate limited during ${what} (${reason ?? status})`, {
      ...opts,
      retryAfterMs,
    });
  }
  if (status === 403 && reason !== undefined && QUOTA_REASONS.has(reason)) {
    return new QuotaExceededError(quotaMessage(reason, what), opts);
  }
  if (status === 403 && (reason === 'fileNotDownloadable' || reason === 'fileNotExportable')) {
    return new UnsupportedError(
      `google-drive: ${what} cannot be downloaded (${reason})${detail}`,
      opts,
    );
  }
  if (status === 401)
    return new AuthExpiredError(
      `google-drive: access token rejected during ${what}; re-authentication needed`,
      opts,
    );
  if (status === 404 || status === 410)
    return new NotFoundError(`google-drive: ${what} not found${detail}`, opts);
  if (status === 416)
    return new InvalidRangeError(`google-drive: range not satisfiable for ${what}`, opts);
  if (status === 408 || status >= 500) {
    return new TransientError(`google-drive: server error ${status} during ${what}${detail}`, {
      ...opts,
      retryAfterMs,
    });
  }
  return new FatalError(
    `google-drive: ${what} failed with ${status} ${reason ?? ''}${detail}`.trim(),
    opts,
  );
}

export function quotaMessage(reason: string, what: string): string {
  switch (reason) {
    case 'storageQuotaExceeded':
      return `google-drive: the Drive storage quota is full (during ${what}); free space or buy storage`;
    case 'dailyLimitExceeded':
      return `google-drive: the daily API limit of this OAuth project is exhausted (during ${what}); retry tomorrow`;
    case 'userRateLimitExceeded':
      return (
        `google-drive: uploads keep failing with userRateLimitExceeded (during ${what}): the daily upload ` +
        'cap (about 750 GB per user per day) is probably reached; retry in 24 hours'
      );
    default:
      return `google-drive: quota exceeded (${reason}) during ${what}`;
  }
}
