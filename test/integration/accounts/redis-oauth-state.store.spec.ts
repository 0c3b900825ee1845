import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisOAuthStateStore } from '../../../src/accounts/oauth-state.store.js';
import type { PendingOAuth } from '../../../src/accounts/oauth-connect.service.js';
import { SecretVault } from '../../../src/accounts/secret-vault.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function pending(state: string): PendingOAuth {
  return {
    state,
    nonce: 'n',
    kind: 'dropbox',
    name: 'Dropbox',
    settings: { config: { clientId: 'app' }, secrets: { clientSecret: 'app-secret-value' } },
    codeVerifier: 'verifier-value',
    redirectUri: 'https://backup.example/api/accounts/oauth/callback',
    expiresAt: 1_000_000,
  };
}

describe('RedisOAuthStateStore', () => {
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let sut: RedisOAuthStateStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    sut = new RedisOAuthStateStore(redis, prefix, SecretVault.fromKey(randomBytes(32)));
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('should let exactly one of two simultaneous callbacks take a state', async () => {
    await sut.put(pending('s1'));

    const [a, b] = await Promise.all([sut.take('s1', 10), sut.take('s1', 11)]);

    expect([a?.usedAt, b?.usedAt].filter((u) => u === undefined)).toHaveLength(1);
    expect(a?.codeVerifier).toBe('verifier-value');
  });

  it('should answer undefined for a state it never saw', async () => {
    expect(await sut.take('forged', 10)).toBeUndefined();
  });

  it('should keep the app secret and verifier sealed in Redis', async () => {
    await sut.put(pending('s2'));

    const raw = await redis.get(`${prefix}:oauth-state:s2`);

    expect(raw).not.toContain('app-secret-value');
    expect(raw).not.toContain('verifier-value');
  });
});
