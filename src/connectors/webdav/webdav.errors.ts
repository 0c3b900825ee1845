import {
  AuthExpiredError,
  ConnectorError,
  FatalError,
  InvalidRangeError,
  isAbortError,
  isTransientNetworkError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';

/** The fields the webdav package puts on its HTTP errors (and on our own status checks). */
export interface WebDavHttpFailure {
  status: number;
  response?: { headers?: { get(name: string): string | null } };
}

export function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

export class WebDavStatusError extends Error implements WebDavHttpFailure {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly response?: { headers?: { get(name: string): string | null } },
  ) {
    super(`${method} answered ${status}`);
  }
}

/** Maps webdav/HTTP failures to connector errors; `what` names the path for the message. */
export function mapWebDavError(e: unknown, what: string): Error {
  if (e instanceof ConnectorError) return e;
  if (isAbortError(e)) return e as Error;
  const status = statusOf(e);
  const opts = { cause: e, providerCode: status === undefined ? undefined : String(status) };
  if (status !== undefined) {
    const retryAfterMs = parseRetryAfter(
      (e as WebDavHttpFailure).response?.headers?.get('retry-after'),
    );
    switch (status) {
      case 404:
        return new NotFoundError(`'${what}' does not exist`, opts);
      case 401:
        return new AuthExpiredError(
          'the WebDAV server rejected the user name or password: re-enter them',
          opts,
        );
      case 403:
        return new FatalError(`the WebDAV server forbids access to '${what}' (403)`, opts);
      case 416:
        return new InvalidRangeError(`range not satisfiable for '${what}'`, opts);
      case 423:
        return new TransientError(`'${what}' is locked on the server (423)`, opts);
      case 429:
        return new RateLimitedError(`the WebDAV server asked to slow down on '${what}'`, {
          ...opts,
          retryAfterMs,
        });
      case 507:
        return new QuotaExceededError(
          `the WebDAV server has no space left (507 Insufficient Storage) while writing '${what}'`,
          opts,
        );
      default:
        if (status >= 500)
          return new TransientError(`the WebDAV server failed on '${what}' (${status})`, {
            ...opts,
            retryAfterMs,
          });
        return new FatalError(`the WebDAV server refused '${what}' (${status})`, opts);
    }
  }
  if (isTransientNetworkError(e) || (e as { type?: string } | undefined)?.type === 'system')
    return new TransientError(`connection to the WebDAV server broke on '${what}'`, { cause: e });
  return new FatalError(`'${what}': ${(e as Error | undefined)?.message ?? String(e)}`, {
    cause: e,
  });
}
