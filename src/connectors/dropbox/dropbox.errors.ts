import { DropboxResponseError } from 'dropbox';
import {
  AlreadyExistsError,
  AuthExpiredError,
  ConnectorError,
  CursorExpiredError,
  FatalError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  isAbortError,
  isTransientNetworkError,
  NotADirectoryError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';
import type { DropboxErrorBody, DropboxOAuthErrorBody } from './api/types.js';

/** What the call was doing, so a conflict can be reported as the error the contract names. */
export type DropboxOperation =
  'read' | 'write' | 'mkdir' | 'list' | 'stat' | 'remove' | 'copy' | 'feed' | 'auth';

/** The fields of the SDK's DropboxResponseError (also thrown for raw content-host requests). */
export interface DropboxHttpFailure {
  status: number;
  headers?: { get(name: string): string | null } | Record<string, unknown>;
  error: unknown;
}

export function isDropboxHttpFailure(e: unknown): e is DropboxHttpFailure {
  return (
    e instanceof DropboxResponseError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'DropboxResponseError')
  );
}

/** The tag chain of an endpoint error: 'path/conflict/folder/..' -> ['path', 'conflict', 'folder']. */
export function errorTags(body: unknown): string[] {
  const summary = (body as DropboxErrorBody | undefined)?.error_summary;
  if (typeof summary === 'string') {
    return summary
      .replace(/[/.]+$/, '')
      .split('/')
      .filter((t) => t !== '' && !/^\.+$/.test(t));
  }
  // No summary: walk the nested '.tag's ({".tag":"path","path":{".tag":"not_found"}}).
  const tags: string[] = [];
  let cur = (body as DropboxErrorBody | undefined)?.error;
  for (let i = 0; cur && typeof cur === 'object' && i < 5; i++) {
    const tag = cur['.tag'];
    if (typeof tag !== 'string') break;
    tags.push(tag);
    cur = (cur[tag] ?? cur.reason) as typeof cur;
  }
  return tags;
}

/** `correct_offset` from an incorrect_offset answer (append: top level; finish: under lookup_failed). */
export function correctOffsetOf(e: unknown): number | undefined {
  if (!isDropboxHttpFailure(e) || e.status !== 409) return undefined;
  const err = (e.error as DropboxErrorBody | undefined)?.error;
  if (!err) return undefined;
  const direct = err.correct_offset;
  if (typeof direct === 'number') return direct;
  const nested = (err.lookup_failed as { correct_offset?: unknown } | undefined)?.correct_offset;
  return typeof nested === 'number' ? nested : undefined;
}

export function isExpiredAccessToken(e: unknown): boolean {
  return (
    isDropboxHttpFailure(e) && e.status === 401 && errorTags(e.error)[0] === 'expired_access_token'
  );
}

function header(f: DropboxHttpFailure, name: string): string | null {
  const h = f.headers;
  if (!h) return null;
  if (typeof (h as { get?: unknown }).get === 'function')
    return (h as { get(n: string): string | null }).get(name);
  const v =
    (h as Record<string, unknown>)[name] ?? (h as Record<string, unknown>)[name.toLowerCase()];
  return typeof v === 'string' ? v : null;
}

function retryAfterMs(f: DropboxHttpFailure): number | undefined {
  const fromHeader = parseRetryAfter(header(f, 'retry-after'));
  if (fromHeader !== undefined) return fromHeader;
  const fromBody = (f.error as DropboxErrorBody | undefined)?.error?.retry_after;
  return typeof fromBody === 'number' ? fromBody * 1000 : undefined;
}

/**
 * Maps anything a Dropbox call threw to a typed connector error. `what` names the path for the
 * message; `op` decides what a conflict means (a folder in the way of a write is IsADirectory).
 */
export function mapDropboxError(e: unknown, what: string, op: DropboxOperation): Error {
  if (e instanceof ConnectorError || isAbortError(e)) return e as Error;
  if (!isDropboxHttpFailure(e)) {
    if (
      isTransientNetworkError(e) ||
      (e instanceof TypeError && /fetch failed|terminated|socket/i.test(e.message))
    ) {
      return new TransientError(
        `network failure talking to Dropbox about '${what}': ${(e as Error).message}`,
        { cause: e },
      );
    }
    return new FatalError(
      `Dropbox call for '${what}' failed: ${(e as Error)?.message ?? String(e)}`,
      { cause: e },
    );
  }
  const status = e.status;
  const body = e.error;
  const tags = errorTags(body);
  const providerCode = tags.length > 0 ? tags.join('/') : String(status);
  const opts = { cause: e, providerCode };
  const text = typeof body === 'string' ? body : JSON.stringify(body);

  if (
    status === 400 &&
    typeof body === 'object' &&
    body !== null &&
    'error' in body &&
    typeof (body as DropboxOAuthErrorBody).error === 'string'
  ) {
    const oauth = body as DropboxOAuthErrorBody;
    if (oauth.error === 'invalid_grant') {
      return new AuthExpiredError(
        'Dropbox refused the refresh token (invalid_grant): re-authentication needed',
        { cause: e, providerCode: 'invalid_grant' },
      );
    }
    return new AuthExpiredError(
      `Dropbox token endpoint refused the app credentials (${oauth.error}): check the app key/secret and reconnect`,
      { cause: e, providerCode: oauth.error },
    );
  }
  if (status === 401) {
    if (tags[0] === 'missing_scope') {
      return new AuthExpiredError(
        `the Dropbox app lacks a scope (${text}): enable it and reconnect the account`,
        opts,
      );
    }
    return new AuthExpiredError(
      `Dropbox rejected the access token (${tags[0] ?? 'unauthorized'}): re-authentication needed`,
      opts,
    );
  }
  if (
    status === 429 ||
    tags.includes('too_many_write_operations') ||
    tags.includes('too_many_requests')
  ) {
    const reason = (body as DropboxErrorBody | undefined)?.error?.reason as
      { '.tag'?: string } | undefined;
    return new RateLimitedError(
      `Dropbox rate limit (${reason?.['.tag'] ?? tags[0] ?? 'too_many_requests'}) on '${what}'`,
      {
        ...opts,
        providerCode: reason?.['.tag'] ?? providerCode,
        retryAfterMs: retryAfterMs(e),
      },
    );
  }
  if (
    status === 507 ||
    tags.includes('insufficient_space') ||
    tags.includes('insufficient_quota')
  ) {
    return new QuotaExceededError(
      `the Dropbox account is full: no space left to store '${what}'`,
      opts,
    );
  }
  if (status >= 500 || status === 408) {
    return new TransientError(`Dropbox answered ${status} for '${what}'`, {
      ...opts,
      retryAfterMs: retryAfterMs(e),
    });
  }
  if (status === 416) return new InvalidRangeError(`range past the end of '${what}'`, opts);
  if (status === 403) return new FatalError(`Dropbox denied access to '${what}': ${text}`, opts);
  if (status === 409) {
    if (tags[0] === 'reset')
      return new CursorExpiredError('the Dropbox list_folder cursor was reset: list again', opts);
    if (tags.includes('not_found') && tags[0] !== 'lookup_failed')
      return new NotFoundError(`'${what}' does not exist on Dropbox`, opts);
    if (tags.includes('not_folder'))
      return new NotADirectoryError(`'${what}' is a file, not a folder`, opts);
    if (tags.includes('not_file')) return new IsADirectoryError(`'${what}' is a folder`, opts);
    if (tags.includes('disallowed_name') || tags.includes('malformed_path')) {
      return new InvalidPathError(
        `Dropbox does not accept the name '${what}' (${providerCode})`,
        opts,
      );
    }
    const c = tags.indexOf('conflict');
    if (c >= 0) {
      const kind = tags[c + 1];
      if (op === 'write' && kind === 'folder')
        return new IsADirectoryError(`a folder sits at '${what}'; a file cannot replace it`, opts);
      if ((op === 'write' || op === 'mkdir') && kind === 'file') {
        return new NotADirectoryError(`a file is in the way of '${what}'`, opts);
      }
      return new AlreadyExistsError(`'${what}' already exists on Dropbox (${providerCode})`, opts);
    }
    return new FatalError(`Dropbox refused the request for '${what}': ${providerCode}`, opts);
  }
  return new FatalError(`Dropbox answered ${status} for '${what}': ${text.slice(0, 300)}`, opts);
}
