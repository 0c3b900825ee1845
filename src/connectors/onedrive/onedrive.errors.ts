import { GraphError } from '@microsoft/microsoft-graph-client';
import {
  AlreadyExistsError,
  AuthExpiredError,
  ConnectorError,
  CursorExpiredError,
  FatalError,
  InvalidPathError,
  InvalidRangeError,
  isAbortError,
  isTransientNetworkError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';

/** Status, Graph error code and headers of a failed call, however it reached us. */
export interface GraphFailure {
  status: number;
  code: string;
  message: string;
  innerCode?: string;
  retryAfter?: string | null;
}

export function isGraphError(e: unknown): e is GraphError {
  return (
    e instanceof GraphError ||
    (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'GraphError')
  );
}

/** Reads a GraphError from the SDK (statusCode -1 means the request never got an answer). */
export function failureFromGraphError(e: GraphError): GraphFailure {
  let innerCode: string | undefined;
  try {
    const body =
      typeof e.body === 'string'
        ? (JSON.parse(e.body) as { innererror?: { code?: string } })
        : undefined;
    innerCode = body?.innererror?.code;
  } catch {
    innerCode = undefined;
  }
  const headers = e.headers as Headers | undefined;
  return {
    status: e.statusCode,
    code: e.code ?? '',
    message: e.message,
    innerCode,
    retryAfter: typeof headers?.get === 'function' ? headers.get('retry-after') : undefined,
  };
}

/** Reads the `{ error: { code, message } }` body of a raw fetch Response. */
export async function failureFromResponse(res: Response): Promise<GraphFailure> {
  let code = '';
  let message = `HTTP ${res.status}`;
  let innerCode: string | undefined;
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; innererror?: { code?: string } };
    };
    code = body.error?.code ?? '';
    message = body.error?.message ?? message;
    innerCode = body.error?.innererror?.code;
  } catch {
    // Not JSON (a proxy page, an empty 416): the status decides.
  }
  return {
    status: res.status,
    code,
    message,
    innerCode,
    retryAfter: res.headers.get('retry-after'),
  };
}

/**
 * Maps a Graph failure to a connector error (protocols/onedrive.md section 9). `what` names the
 * path for the message. 401 here is final: the caller already refreshed the token once.
 */
export function mapFailure(f: GraphFailure, what: string, now = Date.now()): ConnectorError {
  const opts = { providerCode: f.innerCode ? `${f.code}/${f.innerCode}` : f.code };
  const retryAfterMs = parseRetryAfter(f.retryAfter ?? undefined, now);
  const detail = `${f.status} ${f.code}: ${f.message}`;
  if (f.code === 'quotaLimitReached' || f.code === 'insufficientStorage' || f.status === 507) {
    return new QuotaExceededError(`OneDrive is full: no room left for '${what}' (${detail})`, opts);
  }
  switch (f.status) {
    case 400:
      if (/name/i.test(f.message) && /valid/i.test(f.message))
        return new InvalidPathError(`'${what}': ${detail}`, opts);
      return new FatalError(`'${what}': bad request (${detail})`, opts);
    case 401:
      return new AuthExpiredError(
        `OneDrive rejected the access token; re-authentication needed (${detail})`,
        opts,
      );
    case 403:
      return new FatalError(`'${what}': access denied (${detail})`, opts);
    case 404:
      return new NotFoundError(`'${what}' does not exist`, opts);
    case 409:
      return new AlreadyExistsError(`'${what}' already exists (${detail})`, opts);
    case 410:
      return new CursorExpiredError(
        `the change cursor is no longer valid: a full listing is needed (${detail})`,
        opts,
      );
    case 416:
      return new InvalidRangeError(`'${what}': range not satisfiable (${detail})`, opts);
    case 423:
      return new TransientError(`'${what}' is locked (${detail})`, opts);
    case 429:
      return new RateLimitedError(`OneDrive throttled the request (${detail})`, {
        ...opts,
        retryAfterMs,
      });
    case 503:
    case 509:
      if (retryAfterMs !== undefined) {
        return new RateLimitedError(`OneDrive is busy (${detail})`, { ...opts, retryAfterMs });
      }
      return new TransientError(`OneDrive is unavailable (${detail})`, opts);
    default:
      if (f.status >= 500 || f.status <= 0) return new TransientError(`'${what}': ${detail}`, opts);
      return new FatalError(`'${what}': ${detail}`, opts);
  }
}

/** Any error from an SDK call or a fetch, as a connector error (aborts pass through untouched). */
export function mapGraphError(e: unknown, what: string): Error {
  if (e instanceof ConnectorError) return e;
  if (isAbortError(e)) return e as Error;
  if (isGraphError(e)) {
    if (e.code === 'AbortError') {
      const abort = new Error(e.message || 'The operation was aborted');
      abort.name = 'AbortError';
      return abort;
    }
    // statusCode -1: the SDK wraps fetch failures (reset, refused, cut) and keeps only the message.
    if (e.statusCode === -1 || e.statusCode === undefined) {
      return new TransientError(`'${what}': network error (${e.message})`, { cause: e });
    }
    return mapFailure(failureFromGraphError(e), what);
  }
  if (
    isTransientNetworkError(e) ||
    (e instanceof TypeError && /fetch failed|terminated/i.test(e.message))
  ) {
    return new TransientError(`'${what}': network error (${(e as Error).message})`, { cause: e });
  }
  return new FatalError(`'${what}': ${(e as Error | undefined)?.message ?? String(e)}`, {
    cause: e,
  });
}

export function isUnauthorized(e: unknown): boolean {
  return isGraphError(e) && e.statusCode === 401;
}

/**
 * For RAW SDK calls (no throw on error statuses): turns a failed Response into the error the
 * normal path would raise. 401 stays a GraphError so the client's refresh-once logic sees it.
 */
export async function throwIfFailed(res: Response, what: string): Promise<void> {
  if (res.ok) return;
  const f = await failureFromResponse(res);
  if (f.status === 401) {
    const e = new GraphError(401, f.message);
    e.code = f.code;
    throw e;
  }
  throw mapFailure(f, what);
}
