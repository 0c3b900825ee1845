import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

export interface ThrottleConfig {
  /** Failed sign-ins allowed per username from one address before it is locked. */
  maxFailures: number;
  /** How long that lock lasts, and the window the failures are counted in. */
  lockSeconds: number;
  /** Failed sign-ins allowed from one address across all usernames, per hour. */
  maxFailuresPerAddress: number;
  /** Shared counters for a cluster (every API node sees the same failures). */
  redisUrl?: string;
}

/**
 * Counts failed sign-ins (rate-limiter-flexible): per username and address, so a guesser is
 * stopped after a few tries without locking the real user out from home, and per address, so
 * one client cannot walk through usernames. A success clears the username's count.
 */
export class LoginThrottle {
  /** ioredis is imported only in a cluster: a single node keeps its counters in memory. */
  static async create(cfg: ThrottleConfig): Promise<LoginThrottle> {
    if (!cfg.redisUrl) return new LoginThrottle(cfg);
    const { Redis } = await import('ioredis');
    const redis = new Redis(cfg.redisUrl, { enableOfflineQueue: false, lazyConnect: false });
    redis.on('error', () => undefined); // surfaced by the calls that fail
    return new LoginThrottle(cfg, redis);
  }

  private readonly perUser: RateLimiterAbstract;
  private readonly perAddress: RateLimiterAbstract;
  /** Counters in Redis when `redis` is given (a cluster), else in this process. */
  constructor(
    private readonly cfg: ThrottleConfig,
    private readonly redis?: Redis,
  ) {
    const user = {
      keyPrefix: 'cbe-login-user',
      points: cfg.maxFailures,
      duration: cfg.lockSeconds,
      blockDuration: cfg.lockSeconds,
    };
    const address = {
      keyPrefix: 'cbe-login-addr',
      points: cfg.maxFailuresPerAddress,
      duration: 3600,
      blockDuration: 3600,
    };
    if (redis) {
      this.perUser = new RateLimiterRedis({ storeClient: redis, ...user });
      this.perAddress = new RateLimiterRedis({ storeClient: redis, ...address });
    } else {
      this.perUser = new RateLimiterMemory(user);
      this.perAddress = new RateLimiterMemory(address);
    }
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

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => undefined);
  }
}
