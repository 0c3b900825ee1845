import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
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

/** The answer to a sign-in past the limit: built once, sent without Express. */
const TOO_MANY = Buffer.from(
  JSON.stringify({
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'too many sign-ins at once from your address: try again in 1 s',
  }),
);
const TOO_MANY_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(TOO_MANY.length),
  'retry-after': '1',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/**
 * Sign-ins in flight per client address: a person has one at a time, a flood has hundreds. Past
 * the limit a sign-in is refused before Express sees it (no body parsing, no middleware, no
 * Nest), so a burst costs the engine little more than Node's own HTTP work, and the throttle
 * (LoginThrottle, which counts attempts before hashing) sees only a few of them.
 *
 * The limit is the store's (cluster-wide in a cluster). This node also counts its own sign-ins
 * per address, those in flight and those still waiting for the store's answer: when they alone
 * reach the limit, the cluster-wide count does too (or will, once the store has seen them), so
 * the sign-in is refused at once, without a round trip to Redis. In a burst, that is all but the
 * first few.
 *
 * An admitted sign-in goes on to Express on a later turn of the event loop, one per turn: its
 * whole way through Nest (validation, the throttle, the error filter, the log line) is ~1-2 ms of
 * CPU that runs at once when nothing in it waits for I/O, as when the throttle refuses it. Run
 * straight from the socket's callback, 300 sign-ins read in one turn were 300 such pipelines
 * before a health check read in the same turn was answered, and each one had finished before
 * the next was read, so the in-flight count never passed 1. Deferred, the requests of a burst
 * are counted while they wait (all but the first few refused cheaply) and what else arrived is
 * served between two sign-ins.
 */
export class LoginGate {
  private readonly logger = new Logger('LoginGate');
  /** This node's sign-ins per address, from admission until their response ends. */
  private readonly mine = new Map<string, number>();
  private readonly turns = new OnePerTurn();

  constructor(
    private readonly store: LoginGateStore = new InMemoryLoginGateStore(),
    private readonly maxPerAddress = 4,
  ) {}

  /**
   * Lets a sign-in from `address` on (`next`) or answers 429 on the raw Node response: it runs
   * ahead of Express (src/http/front-door.ts).
   */
  admit(res: ServerResponse, address: string, next: () => void): void {
    const mine = this.mine.get(address) ?? 0;
    if (mine >= this.maxPerAddress) {
      refuse(res);
      return;
    }
    this.mine.set(address, mine + 1);
    // Listening before the store answers: a client gone meanwhile (Redis is a round trip away)
    // must still give its place back.
    let state: 'waiting' | 'entered' | 'ended' = 'waiting';
    const leave = () => this.store.leave(address).catch((e: unknown) => this.warn(e));
    const ended = () => {
      if (state === 'ended') return;
      if (state === 'entered') void leave();
      state = 'ended';
      const left = (this.mine.get(address) ?? 1) - 1;
      if (left <= 0) this.mine.delete(address);
      else this.mine.set(address, left);
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
          refuse(res);
          return;
        }
        state = 'entered';
        this.turns.run(() => state === 'entered' && next());
      },
      (e: unknown) => {
        // The store is unreachable (Redis down): let the sign-in on to the throttle, which
        // decides before any hash is computed.
        this.warn(e);
        this.turns.run(() => state !== 'ended' && next());
      },
    );
  }

  private warn(e: unknown): void {
    this.logger.warn(`sign-ins in flight not counted: ${String(e)}`);
  }
}

/**
 * Runs callbacks one per turn of the event loop (`setImmediate`), in order, so the I/O that
 * arrives meanwhile is served between them.
 */
export class OnePerTurn {
  private readonly queue: Array<() => unknown> = [];
  private scheduled = false;

  run(fn: () => unknown): void {
    this.queue.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.next);
    }
  }

  private readonly next = (): void => {
    const fn = this.queue.shift();
    if (this.queue.length > 0) setImmediate(this.next);
    else this.scheduled = false;
    fn?.();
  };
}

function refuse(res: ServerResponse): void {
  res.writeHead(429, TOO_MANY_HEADERS);
  res.end(TOO_MANY);
}
