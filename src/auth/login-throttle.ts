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

  /** Milliseconds until this username may try again from this address; 0 when it may now. */
  async waitMs(usernameKey: string, address: string): Promise<number> {
    const [u, a] = await Promise.all([
      this.perUser.get(`${usernameKey}|${address}`),
      this.perAddress.get(address),
    ]);
    let wait = 0;
    if (u && u.consumedPoints >= this.cfg.maxFailures) wait = Math.max(wait, u.msBeforeNext);
    if (a && a.consumedPoints >= this.cfg.maxFailuresPerAddress)
      wait = Math.max(wait, a.msBeforeNext);
    return wait;
  }

  /** Records a failure; answers the wait now imposed (0 while tries remain). */
  async failed(usernameKey: string, address: string): Promise<number> {
    let wait = 0;
    for (const [limiter, key] of [
      [this.perUser, `${usernameKey}|${address}`],
      [this.perAddress, address],
    ] as const) {
      try {
        const r = await limiter.penalty(key, 1);
        if (r.remainingPoints <= 0) wait = Math.max(wait, r.msBeforeNext);
      } catch (e) {
        if (e instanceof RateLimiterRes) wait = Math.max(wait, e.msBeforeNext);
        else throw e;
      }
    }
    return wait;
  }

  async succeeded(usernameKey: string, address: string): Promise<void> {
    await this.perUser.delete(`${usernameKey}|${address}`);
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => undefined);
  }
}
