export interface BackoffPolicy {
  /** First delay, in ms. */
  initialMs: number;
  /** Cap on any single computed delay, in ms (a provider's Retry-After may exceed it). */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay randomised, 0..1 ("full jitter" at 1). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 250,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * Delay before retry number `attempt` (1-based): exponential with jitter, never below the
 * provider's Retry-After when it gave one.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  const jittered = base * (1 - policy.jitter) + base * policy.jitter * random();
  return Math.max(Math.round(jittered), retryAfterMs ?? 0);
}
