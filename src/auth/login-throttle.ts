import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/** What a login limiter counts: `points` failures per `duration` seconds, then a block. */
export interface LoginLimiterOptions {
  keyPrefix: string;
  points: number;
  duration: number;
  blockDuration: number;
}

/**
 * Makes the throttle's counters; the ports module chooses the store: this process's memory
 * (embedded) or Redis (a cluster, so every API node counts the same failures).
 */
export type LoginLimiterFactory = (opts: LoginLimiterOptions) => RateLimiterAbstract;

export const memoryLoginLimiters: LoginLimiterFactory = (opts) => new RateLimiterMemory(opts);

/** Counters in Redis under `<prefix>:<keyPrefix>`; `redis` should fail fast when Redis is down. */
export function redisLoginLimiters(redis: Redis, prefix: string): LoginLimiterFactory {
  return (opts) =>
    new RateLimiterRedis({ storeClient: redis, ...opts, keyPrefix: `${prefix}:${opts.keyPrefix}` });
}

export interface ThrottleConfig {
  /** Failed sign-ins allowed per username from one address before it is locked. */
  maxFailures: number;
  /** How long that lock lasts, and the window the failures are counted in. */
  lockSeconds: number;
  /** Failed sign-ins allowed from one address across all usernames, per hour. */
  maxFailuresPerAddress: number;
}

/**
 * Counts failed sign-ins (rate-limiter-flexible): per username and address, so a guesser is
 * stopped after a few tries without locking the real user out from home, and per address, so
 * one client cannot walk through usernames. A success clears the username's count.
 */
export class LoginThrottle {
  private readonly perUser: RateLimiterAbstract;
  private readonly perAddress: RateLimiterAbstract;

  constructor(
    private readonly cfg: ThrottleConfig,
    limiters: LoginLimiterFactory = memoryLoginLimiters,
  ) {
    this.perUser = limiters({
      keyPrefix: 'login-user',
      points: cfg.maxFailures,
      duration: cfg.lockSeconds,
      blockDuration: cfg.lockSeconds,
    });
    this.perAddress = limiters({
      keyPrefix: 'login-addr',
      points: cfg.maxFailuresPerAddress,
      duration: 3600,
      blockDuration: 3600,
    });
  }

  /**
   * Counts a sign-in attempt as a failure before its password is checked, so attempts still in
   * flight count: of 300 concurrent guesses only the first few are hashed. Answers the wait when
   * the attempt is refused (0: go on), and whether it was the last one allowed.
   */
  async begin(
    usernameKey: string,
    address: string,
  ): Promise<{ waitMs: number; last: boolean; lockMs: number }> {
    let waitMs = 0;
    let lockMs = 0;
    let last = false;
    for (const [limiter, key, points] of [
      [this.perUser, `${usernameKey}|${address}`, this.cfg.maxFailures],
      [this.perAddress, address, this.cfg.maxFailuresPerAddress],
    ] as const) {
      try {
        const r = await limiter.consume(key, 1);
        if (r.consumedPoints >= points) {
          last = true;
          lockMs = Math.max(lockMs, r.msBeforeNext);
        }
      } catch (e) {
        if (e instanceof RateLimiterRes) waitMs = Math.max(waitMs, e.msBeforeNext || 1000);
        else throw e;
      }
    }
    return { waitMs, last, lockMs };
  }

  /** A right password: the username's count is cleared, the address's attempt given back. */
  async succeeded(usernameKey: string, address: string): Promise<void> {
    await this.perUser.delete(`${usernameKey}|${address}`);
    await this.perAddress.reward(address, 1).catch(() => undefined);
  }
}
