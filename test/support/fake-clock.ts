import type { Clock } from '../../src/common/clock.js';

/** A clock whose sleeps return at once and are recorded; time advances by what was slept. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private t: number;

  constructor(start = Date.UTC(2026, 10, 22, 3, 0, 0)) {
    this.t = start;
  }

  now(): Date {
    return new Date(this.t);
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.t += ms;
  }
}
