import type { Redis } from 'ioredis';
import type { Clock } from '../common/clock.js';
import type { PendingOAuth } from './oauth-connect.service.js';
import type { SecretVault } from './secret-vault.js';

/** Consent has to finish within this time; providers' own codes live about as long. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

/**
 * Where pending OAuth flows live between `start` and the provider's callback. Embedded: this
 * process's memory. Cluster: Redis, since the callback may land on another API node.
 */
export interface OAuthStateStore {
  put(p: PendingOAuth): Promise<void>;
  /**
   * Marks the state used at `at` and answers the entry as it was: with `usedAt` set when an
   * earlier call took it first (a state works once, even with two callbacks at the same time),
   * undefined when unknown. Expired entries are answered as they are.
   */
  take(state: string, at: number): Promise<PendingOAuth | undefined>;
}

/**
 * Pending flows in this process's memory, dropped 10 minutes after they expire. Good for the
 * embedded mode (one process); a restart forgets them (the user starts again).
 */
export class InMemoryOAuthStateStore implements OAuthStateStore {
  private readonly byState = new Map<string, PendingOAuth>();

  constructor(
    private readonly clock: Clock,
    /** Bounds memory when someone starts flows in a loop; the oldest pending ones go first. */
    private readonly maxEntries = 10_000,
  ) {}

  put(p: PendingOAuth): Promise<void> {
    const now = this.clock.now().getTime();
    // Used/expired entries stay a while so a replay gets "already used", not "unknown".
    for (const [k, v] of this.byState)
      if (v.expiresAt + OAUTH_STATE_TTL_MS < now) this.byState.delete(k);
    while (this.byState.size >= this.maxEntries) {
      const oldest = this.byState.keys().next().value;
      if (oldest === undefined) break;
      this.byState.delete(oldest);
    }
    this.byState.set(p.state, { ...p });
    return Promise.resolve();
  }

  take(state: string, at: number): Promise<PendingOAuth | undefined> {
    const p = this.byState.get(state);
    if (!p) return Promise.resolve(undefined);
    const before = { ...p };
    p.usedAt ??= at;
    return Promise.resolve(before);
  }
}

/**
 * Cluster mode: each pending flow is one Redis key, sealed with the vault (it holds the app
 * secret and the PKCE verifier), kept for twice the consent time so a replay still gets "already
 * used"; the first callback claims it with SET NX on a second key.
 */
export class RedisOAuthStateStore implements OAuthStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly vault: Pick<SecretVault, 'seal' | 'open'>,
  ) {}

  async put(p: PendingOAuth): Promise<void> {
    const sealed = this.vault.seal({ pending: JSON.stringify(p) });
    await this.redis.set(this.key(p.state), sealed, 'PX', 2 * OAUTH_STATE_TTL_MS);
  }

  async take(state: string, at: number): Promise<PendingOAuth | undefined> {
    const sealed = await this.redis.get(this.key(state));
    if (!sealed) return undefined;
    const p = JSON.parse(this.vault.open(sealed).pending!) as PendingOAuth;
    const used = `${this.key(state)}:used`;
    const first = await this.redis.set(used, String(at), 'PX', 2 * OAUTH_STATE_TTL_MS, 'NX');
    if (first !== 'OK') p.usedAt = Number(await this.redis.get(used)) || at;
    return p;
  }

  private key(state: string): string {
    return `${this.prefix}:oauth-state:${state}`;
  }
}
