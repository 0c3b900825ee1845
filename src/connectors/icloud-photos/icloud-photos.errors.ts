import {
  ConnectorError,
  FatalError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitedError,
  SignInRefusedError,
  type SignInRefusal,
  TransientError,
} from '../connector.errors.js';

export type ICloudSignInReason = SignInRefusal;

export const REAUTH_MESSAGE =
  'iCloud re-authentication needed: Apple asks for a new verification code (the trust token ' +
  'expired or was revoked). Sign in to the account again to enter a code.';

/** Apple refused a sign-in in a way only the user can fix; `reason` tells the UI what to say. */
export class ICloudSignInError extends SignInRefusedError {}

/** CloudKit errors that come inside a 200 body, or as the JSON of an error status. */
const CK_TRANSIENT = new Set(['THROTTLED', 'TRY_AGAIN_LATER', 'RETRY_LATER', 'CAS_OP_LOCK']);

export interface HttpFailure {
  status: number;
  retryAfter: string | null;
  body: string;
  where: string;
}

function ckCode(body: string): { code?: string; reason?: string } {
  try {
    const j = JSON.parse(body) as { serverErrorCode?: string; reason?: string };
    return { code: j.serverErrorCode, reason: j.reason };
  } catch {
    return {};
  }
}

/** Maps a failed HTTP answer of any iCloud host to a typed connector error. */
export function mapHttpError(f: HttpFailure, now = Date.now()): ConnectorError {
  const { code, reason } = ckCode(f.body);
  const providerCode = code ?? String(f.status);
  const retryAfterMs = parseRetryAfter(f.retryAfter, now);
  const detail = `${f.where}: HTTP ${f.status}${code ? ` ${code}` : ''}${reason ? ` (${reason})` : ''}`;
  if (f.status === 429 || (code && CK_TRANSIENT.has(code)) || f.status === 503) {
    return new RateLimitedError(`iCloud is throttling requests, ${detail}`, {
      providerCode,
      retryAfterMs,
    });
  }
  if (code === 'QUOTA_EXCEEDED' || f.status === 413) {
    return new QuotaExceededError(
      `iCloud storage is full: free space or upgrade the iCloud plan, ${detail}`,
      { providerCode },
    );
  }
  if (code === 'ACCESS_DENIED') {
    return new FatalError(
      `iCloud refused access to the photo library (${reason ?? 'ACCESS_DENIED'}): Advanced Data ` +
        'Protection without web access, or the account is locked. Retrying makes lockouts longer.',
      { providerCode },
    );
  }
  if (code === 'ZONE_NOT_FOUND' || code === 'NOT_FOUND' || f.status === 404) {
    return new NotFoundError(`iCloud: ${detail}`, { providerCode });
  }
  if (f.status === 408 || f.status >= 500)
    return new TransientError(`iCloud: ${detail}`, { providerCode, retryAfterMs });
  return new FatalError(`iCloud: ${detail}`, { providerCode });
}

/** Checks a 200 CloudKit body for a transient server error code. */
export function ckBodyError(where: string, body: unknown): ConnectorError | undefined {
  const code = (body as { serverErrorCode?: unknown } | null)?.serverErrorCode;
  if (typeof code !== 'string') return undefined;
  return mapHttpError({ status: 200, retryAfter: null, body: JSON.stringify(body), where });
}

/** A CloudKit answer that means "this web session is gone" (401/421, or 450). */
export function isSessionGone(status: number): boolean {
  return status === 401 || status === 421 || status === 450;
}

export { isTransientNetworkError } from '../connector.errors.js';
