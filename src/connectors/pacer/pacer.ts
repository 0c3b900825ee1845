import { systemClock, type Clock } from '../../common/clock.js';
import { ConnectorError, isRetryable } from '../connector.errors.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: ConnectorError;
  label: string;
}

export interface PacerOptions {
  /** Retries after the first attempt; 0 disables retrying. */
  maxRetries?: number;
  backoff?: BackoffPolicy;
  /** Minimum spacing between the starts of two calls, in ms (0: none). */
  minIntervalMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Told about every retry, so a run log can name each fault it survived. */
  onRetry?: (e: RetryEvent) => void;
}

/**
 * One per connector instance: spaces calls out and retries what is retryable (typed
 * RateLimited/Transient errors), honouring Retry-After. Nothing else is retried.
 */
export class Pacer {
  private readonly maxRetries: number;
  private readonly backoff: BackoffPolicy;
  private readonly minIntervalMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private onRetry?: (e: RetryEvent) => void;
  private nextSlot = 0;

  constructor(opts: PacerOptions = {}) {
    this.maxRetries = opts.maxRetries ?? 8;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.minIntervalMs = opts.minIntervalMs ?? 0;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.onRetry = opts.onRetry;
  }

  /** Replaces the retry listener (the engine attaches one per run). */
  setRetryListener(listener: ((e: RetryEvent) => void) | undefined): void {
    this.onRetry = listener;
  }

  /**
   * Runs `fn` until it succeeds, throws a non-retryable error, or the retries are spent (then the
   * last error is thrown). `fn` must be safe to call again: it must not consume a one-shot stream.
   */
  async call<T>(label: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      await this.waitForSlot(signal);
      try {
        return await fn();
      } catch (e) {
        if (!isRetryable(e) || attempt > this.maxRetries || signal?.aborted) throw e;
        const err = e as ConnectorError & { retryAfterMs?: number };
        const delayMs = backoffDelay(this.backoff, attempt, err.retryAfterMs, this.random);
        this.onRetry?.({ attempt, delayMs, error: err, label });
        await this.clock.sleep(delayMs, signal);
      }
    }
  }

  private async waitForSlot(signal?: AbortSignal): Promise<void> {
    if (this.minIntervalMs <= 0) return;
    const now = this.clock.now().getTime();
    const start = Math.max(now, this.nextSlot);
    this.nextSlot = start + this.minIntervalMs;
    if (start > now) await this.clock.sleep(start - now, signal);
  }
}
