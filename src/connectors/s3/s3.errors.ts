import { S3ServiceException } from '@aws-sdk/client-s3';
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

/** S3 error codes that mean "slow down" rather than "broken" (AWS, B2, Wasabi, MinIO). */
const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
]);
/** The key pair is wrong, revoked or expired: the user must fix the account. */
const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'Unauthorized',
]);
const QUOTA_CODES = new Set([
  'QuotaExceeded',
  'StorageQuotaExceeded',
  'AccountProblem',
  'XMinioStorageFull',
]);

function retryAfterOf(e: S3ServiceException): number | undefined {
  const headers = (e.$response as { headers?: Record<string, string> } | undefined)?.headers;
  return parseRetryAfter(headers?.['retry-after']);
}

/** Maps SDK and network errors to connector errors; `what` names the key for the message. */
export function mapS3Error(e: unknown, what: string): Error {
  if (e instanceof ConnectorError) return e;
  if (isAbortError(e)) return e as Error;
  if (e instanceof S3ServiceException || (e as { $metadata?: unknown })?.$metadata) {
    const err = e as S3ServiceException;
    const status = err.$metadata?.httpStatusCode ?? 0;
    const code = err.name;
    const opts = { cause: e, providerCode: code };
    if (THROTTLE_CODES.has(code) || status === 429) {
      return new RateLimitedError(`S3 asked to slow down on '${what}' (${code})`, {
        ...opts,
        retryAfterMs: retryAfterOf(err),
      });
    }
    if (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket'))
      return new NotFoundError(`'${what}' does not exist`, opts);
    if (code === 'NoSuchBucket')
      return new FatalError(`the bucket does not exist (while accessing '${what}')`, opts);
    if (code === 'InvalidRange' || status === 416)
      return new InvalidRangeError(`range not satisfiable for '${what}'`, opts);
    if (AUTH_CODES.has(code))
      return new AuthExpiredError(
        `S3 rejected the access key (${code}): check the key pair of this account`,
        opts,
      );
    if (QUOTA_CODES.has(code))
      return new QuotaExceededError(`the storage is full or over quota (${code})`, opts);
    if (status >= 500 || code === 'RequestTimeout' || code === 'InternalError')
      return new TransientError(`S3 failed on '${what}': ${code} (${status})`, {
        ...opts,
        retryAfterMs: retryAfterOf(err),
      });
    if (status === 403)
      return new FatalError(
        `access denied to '${what}' (${code}): check the key's permissions`,
        opts,
      );
    return new FatalError(`S3 refused '${what}': ${code} (${status}) ${err.message}`, opts);
  }
  if (isTransientNetworkError(e))
    return new TransientError(`connection to S3 broke on '${what}'`, { cause: e });
  return new FatalError(`'${what}': ${(e as Error | undefined)?.message ?? String(e)}`, {
    cause: e,
  });
}
