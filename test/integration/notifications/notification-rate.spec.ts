import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  InMemoryNotificationRate,
  RedisNotificationRate,
  type NotificationRate,
} from '../../../src/notifications/notification-rate.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('NotificationRate adapters', () => {
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let other: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    other.disconnect();
  });

  const adapters: Array<[string, () => NotificationRate]> = [
    ['in memory', () => new InMemoryNotificationRate(3, 3600)],
    [
      'Redis',
      () =>
        new RedisNotificationRate(redis, `${prefix}-${randomBytes(2).toString('hex')}`, 3, 3600),
    ],
  ];

  describe.each(adapters)('%s', (_name, make) => {
    it('should allow the limit per task and refuse the next, each task on its own count', async () => {
      const sut = make();
      const taken = [];
      for (let i = 0; i < 4; i++) taken.push(await sut.take('t1'));
      expect(taken).toEqual([true, true, true, false]);
      await expect(sut.take('t2')).resolves.toBe(true);
    });
  });

  it('should count one task across nodes (two connections, as two workers), not per process', async () => {
    const a = new RedisNotificationRate(redis, prefix, 3, 3600);
    const b = new RedisNotificationRate(other, prefix, 3, 3600);
    const taken = await Promise.all([a.take('t'), b.take('t'), a.take('t'), b.take('t')]);
    expect(taken.filter(Boolean)).toHaveLength(3);
    // The counter expires with its window: it never outlives an hour.
    const ttl = await redis.ttl(`${prefix}:notify-rate:t`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('should open a new window once the old one expired', async () => {
    const sut = new RedisNotificationRate(redis, `${prefix}-w`, 1, 1);
    await expect(sut.take('t')).resolves.toBe(true);
    await expect(sut.take('t')).resolves.toBe(false);
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(sut.take('t')).resolves.toBe(true);
  });
});
