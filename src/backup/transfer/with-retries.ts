import type { Clock } from '../../common/clock.js';
import { isAbortError, isRetryable } from '../../connectors/connector.errors.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../connectors/pacer/backoff.js';

/**
 * Runs one file operation until it succeeds or fails for good: retryable errors (cut
 * connections, 5xx, rate limits, short bodies) are tried again with backoff, up to `attempts`;
 * anything else, and the last failure, is thrown.
 */
export function withFileRetries<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  // The first attempt without an async frame of its own: nearly every file succeeds at once,
  // and each promise per file counts on a run of small files (issue #21).
  let first: Promise<T>;
  try {
    first = fn();
  } catch (e) {
    first = Promise.reject(e);
  }
  return first.catch((e: unknown) => retryAfter(e, fn, opts));
}

interface RetryOptions {
  attempts: number;
  clock: Clock;
  signal?: AbortSignal;
  onRetry: (attempt: number, error: unknown, delayMs: number) => void;
}

async function retryAfter<T>(
  firstError: unknown,
  fn: () => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  let e = firstError;
  for (let attempt = 1; ; attempt++) {
    // An AbortError the run's signal did not cause is a transient failure of this file (see
    // classifyFileError); without a signal to tell, an abort is taken as meant.
    const strayAbort = isAbortError(e) && opts.signal !== undefined;
    if (
      opts.signal?.aborted ||
      (isAbortError(e) && !strayAbort) ||
      !(isRetryable(e) || strayAbort) ||
      attempt >= opts.attempts
    )
      throw e;
    const delayMs = backoffDelay(
      DEFAULT_BACKOFF,
      attempt,
      (e as { retryAfterMs?: number }).retryAfterMs,
    );
    opts.onRetry(attempt + 1, e, delayMs);
    await opts.clock.sleep(delayMs, opts.signal);
    try {
      return await fn();
    } catch (next) {
      e = next;
    }
  }
}
