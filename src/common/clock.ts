import { setTimeout as delay } from 'node:timers/promises';

/** Time as a dependency, so that retries, schedules and expiries are testable without waiting. */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or rejects with an AbortError when the signal fires first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
};
