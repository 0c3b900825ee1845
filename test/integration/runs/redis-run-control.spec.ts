import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisRunControl } from '../../../src/runs/run-control.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Two nodes' run controls on one Redis: a pause outlives the node that held the run. */
describe('RedisRunControl', () => {
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];
  const node = () => {
    const [pub, sub] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    connections.push(pub, sub);
    return new RedisRunControl(pub, sub, prefix);
  };

  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    for (const c of connections) c.disconnect();
  });

  it('should hold a run on a node started after the pause, and let it go on resume from another', async () => {
    const api = node();
    await api.pause('r1');

    const worker = node();
    await new Promise((r) => setTimeout(r, 100)); // its subscription is up
    expect([worker.isPaused('r1'), await worker.pausedAnywhere('r1')]).toEqual([false, true]);
    await worker.adopt('r1');
    expect(worker.isPaused('r1')).toBe(true);
    const released = worker.waitWhilePaused('r1', new AbortController().signal);

    await api.resume('r1');

    await released;
    expect([worker.isPaused('r1'), await node().pausedAnywhere('r1')]).toEqual([false, false]);
  });

  it('should forget a pause when the run is cancelled', async () => {
    const api = node();
    await api.pause('r2');
    await api.cancel('r2');

    const worker = node();
    await worker.adopt('r2');
    expect([worker.isPaused('r2'), await worker.pausedAnywhere('r2')]).toEqual([false, false]);
  });
});
