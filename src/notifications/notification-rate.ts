import type { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';

/**
 * How many messages (mail and webhook together) a task may cause per window: a task run in a
 * loop must not turn the operator's SMTP server into a mass mailer. A port: counted in this
 * process (embedded mode) or in Redis (cluster mode, so that ten workers do not allow ten times
 * the rate); chosen in src/ports/ports.module.ts.
 */
export interface NotificationRate {
  /** Takes one message for the task; false when the task used up its window. */
  take(taskId: string): Promise<boolean>;
}

/** 30 a task per hour covers a run every two minutes. */
export const NOTIFICATIONS_PER_TASK_PER_HOUR = 30;
const WINDOW_SECONDS = 3600;

/** Embedded mode: one process sends every notification, so its memory is the whole count. */
export class InMemoryNotificationRate implements NotificationRate {
  private readonly limiter: RateLimiterMemory;

  constructor(limit = NOTIFICATIONS_PER_TASK_PER_HOUR, windowSeconds = WINDOW_SECONDS) {
    this.limiter = new RateLimiterMemory({
      keyPrefix: 'cbe-notify',
      points: limit,
      duration: windowSeconds,
    });
  }

  async take(taskId: string): Promise<boolean> {
    try {
      await this.limiter.consume(taskId, 1);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Cluster mode: one counter per task in Redis under the cluster's prefix, shared by every node
 * that finishes runs. A fixed window: the key is created with its expiry (SET NX EX) and counted
 * (INCR) in one MULTI, so a crash between the two can never leave a counter without expiry.
 * Written by hand rather than with rate-limiter-flexible's RateLimiterRedis: two commands, and
 * the key layout stays under the configured prefix where an operator looks for it.
 */
export class RedisNotificationRate implements NotificationRate {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limit = NOTIFICATIONS_PER_TASK_PER_HOUR,
    private readonly windowSeconds = WINDOW_SECONDS,
  ) {}

  async take(taskId: string): Promise<boolean> {
    const key = `${this.prefix}:notify-rate:${taskId}`;
    const replies = await this.redis
      .multi()
      .set(key, '0', 'EX', this.windowSeconds, 'NX')
      .incr(key)
      .exec();
    const [err, count] = replies?.[1] ?? [new Error('MULTI was discarded'), null];
    if (err) throw err;
    return Number(count) <= this.limit;
  }
}
