/**
 * Typed connector errors. Connectors map provider errors to these at their boundary; the pacer
 * and the engine decide on `retryable` alone, never on messages.
 */
export type ConnectorErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'NOT_A_DIRECTORY'
  | 'IS_A_DIRECTORY'
  | 'INVALID_PATH'
  | 'INVALID_RANGE'
  | 'AUTH_EXPIRED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'TRANSIENT'
  | 'INTEGRITY'
  | 'CURSOR_EXPIRED'
  | 'UNSUPPORTED'
  | 'ROOT_MISSING'
  | 'SOURCE_OFFLINE'
  | 'TARGET_OFFLINE'
  | 'FATAL';

export interface ConnectorErrorOptions {
  cause?: unknown;
  /** Provider-specific code or reason, for logs ('userRateLimitExceeded', 'too_many_requests'). */
  providerCode?: string;
}

export abstract class ConnectorError extends Error {
  abstract readonly code: ConnectorErrorCode;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean = false;
  readonly providerCode?: string;

  constructor(message: string, opts: ConnectorErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.providerCode = opts.providerCode;
  }
}

export class NotFoundError extends ConnectorError {
  readonly code = 'NOT_FOUND';
}
export class AlreadyExistsError extends ConnectorError {
  readonly code = 'ALREADY_EXISTS';
}
export class NotADirectoryError extends ConnectorError {
  readonly code = 'NOT_A_DIRECTORY';
}
export class IsADirectoryError extends ConnectorError {
  readonly code = 'IS_A_DIRECTORY';
}
export class InvalidPathError extends ConnectorError {
  readonly code = 'INVALID_PATH';
}
export class InvalidRangeError extends ConnectorError {
  readonly code = 'INVALID_RANGE';
}
/** The credentials no longer work (refresh failed, revoked, second factor needed): the user must act. */
export class AuthExpiredError extends ConnectorError {
  readonly code = 'AUTH_EXPIRED';
}

/** Why an interactive sign-in (password and code, see InteractiveSignIn) was refused. */
export type SignInRefusal =
  | 'wrong-password'
  | 'needs-code'
  | 'wrong-code'
  | 'code-locked'
  | 'account-locked'
  | 'security-key-only'
  | 'session-expired';

/** An interactive sign-in failed in a way only the user can fix; `reason` tells the UI what to say. */
export class SignInRefusedError extends AuthExpiredError {
  constructor(
    readonly reason: SignInRefusal,
    message: string,
    opts: ConnectorErrorOptions = {},
  ) {
    super(message, opts);
  }
}

export class QuotaExceededError extends ConnectorError {
  readonly code = 'QUOTA_EXCEEDED';
}
export class CursorExpiredError extends ConnectorError {
  readonly code = 'CURSOR_EXPIRED';
}
export class UnsupportedError extends ConnectorError {
  readonly code = 'UNSUPPORTED';
}
/** Bytes stored differ from bytes sent (size or hash). */
export class IntegrityError extends ConnectorError {
  readonly code = 'INTEGRITY';
}
export class FatalError extends ConnectorError {
  readonly code = 'FATAL';
}

/**
 * The account's root folder is not there (an unplugged drive, an unmounted share, a deleted
 * folder), or another volume sits where it was. Connectors throw it instead of re-creating the
 * root: a backup written to the empty mount point of a missing drive lands on the system disk.
 */
export class RootMissingError extends ConnectorError {
  readonly code = 'ROOT_MISSING';
}

/**
 * A run's source is missing (its root or the task's source folder): the run ends offline,
 * writes nothing and keeps every version. Raised by the engine from a RootMissingError, a
 * failed presence check, or the task's source folder not found.
 */
export class SourceOfflineError extends ConnectorError {
  readonly code = 'SOURCE_OFFLINE';
}

/**
 * A run's target is missing (its root, its volume marker, or the task's target folder that
 * earlier versions were written to): the run ends offline and writes nothing.
 */
export class TargetOfflineError extends ConnectorError {
  readonly code = 'TARGET_OFFLINE';
}

export class RateLimitedError extends ConnectorError {
  readonly code = 'RATE_LIMITED';
  override readonly retryable = true;
  /** How long the provider asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  constructor(message: string, opts: ConnectorErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, opts);
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Network failures, 5xx, cut connections: worth another try after a pause. */
export class TransientError extends ConnectorError {
  readonly code = 'TRANSIENT';
  override readonly retryable = true;
  readonly retryAfterMs?: number;
  constructor(message: string, opts: ConnectorErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, opts);
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}

export function isRetryable(e: unknown): boolean {
  return e instanceof ConnectorError && e.retryable;
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Node's socket-level errors that mean "the connection broke", not "the request was wrong". */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

export function isTransientNetworkError(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

export function isAbortError(e: unknown): boolean {
  return (
    e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR')
  );
}
