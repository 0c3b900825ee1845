import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';

/**
 * Counts sign-ins in flight per address. The ports module chooses the store: this process's
 * memory (embedded) or Redis (a cluster: sign-ins in flight on one API node count on all).
 */
export interface LoginGateStore {
  /** Takes a place for `address` if fewer than `max` are taken; false when full. */
  enter(address: string, max: number): Promise<boolean>;
  leave(address: string): Promise<void>;
}

export class InMemoryLoginGateStore implements LoginGateStore {
  private readonly inFlight = new Map<string, number>();

  enter(address: string, max: number): Promise<boolean> {
    const n = this.inFlight.get(address) ?? 0;
    if (n >= max) return Promise.resolve(false);
    this.inFlight.set(address, n + 1);
    return Promise.resolve(true);
  }

  leave(address: string): Promise<void> {
    const left = (this.inFlight.get(address) ?? 1) - 1;
    if (left <= 0) this.inFlight.delete(address);
    else this.inFlight.set(address, left);
    return Promise.resolve();
  }
}

/**
 * One counter per address in Redis (`<prefix>:login-inflight:<address>`). It expires a minute
 * after the last sign-in entered, so places held by a node that died are given back.
 */
export class RedisLoginGateStore implements LoginGateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
  ) {}

  async enter(address: string, max: number): Promise<boolean> {
    const key = this.key(address);
    const res = await this.redis.multi().incr(key).pexpire(key, this.ttlMs).exec();
    const n = Number(res?.[0]?.[1] ?? 0);
    if (n <= max) return true;
    await this.redis.decr(key);
    return false;
  }

  async leave(address: string): Promise<void> {
    await this.redis.decr(this.key(address));
  }

  private key(address: string): string {
    return `${this.prefix}:login-inflight:${address}`;
  }
}

/**
 * Sign-ins in flight per client address: a person has one at a time, a flood has hundreds. Past
 * the limit a sign-in is refused before its body is even parsed, so a burst costs the engine
 * almost nothing and the throttle (LoginThrottle, which counts attempts before hashing) sees
 * only a few of them.
 */
export class LoginGate {
  private readonly logger = new Logger('LoginGate');

  constructor(
    private readonly store: LoginGateStore = new InMemoryLoginGateStore(),
    private readonly maxPerAddress = 4,
  ) {}

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (
      req.method !== 'POST' ||
      (req.path !== '/api/auth/login' && req.path !== '/api/auth/setup')
    ) {
      return next();
    }
    const address = req.ip ?? 'unknown';
    // Listening before the store answers: a client gone meanwhile (Redis is a round trip away)
    // must still give its place back.
    let state: 'waiting' | 'entered' | 'ended' = 'waiting';
    const leave = () => this.store.leave(address).catch((e: unknown) => this.warn(e));
    const ended = () => {
      if (state === 'entered') void leave();
      state = 'ended';
    };
    res.on('finish', ended);
    res.on('close', ended);
    this.store.enter(address, this.maxPerAddress).then(
      (entered) => {
        if (state === 'ended') {
          if (entered) void leave();
          return;
        }
        if (!entered) {
          res.setHeader('Retry-After', '1');
          res.status(429).json({
            statusCode: 429,
            error: 'Too Many Requests',
            message: 'too many sign-ins at once from your address: try again in 1 s',
          });
          return;
        }
        state = 'entered';
        next();
      },
      (e: unknown) => {
        // The store is unreachable (Redis down): let the sign-in on to the throttle, which
        // decides before any hash is computed.
        this.warn(e);
        if (state !== 'ended') next();
      },
    );
  };

  private warn(e: unknown): void {
    this.logger.warn(`sign-ins in flight not counted: ${String(e)}`);
  }
}
