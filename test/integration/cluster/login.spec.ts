import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import {
  createPostgresDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../../support/databases.js';
import { startTestApp, TEST_ADMIN, type TestApp } from '../../support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A sign-in whose body never finishes arriving: it stays in flight until the socket closes. */
async function hangingSignIn(baseUrl: string): Promise<Socket> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 1000\r\n\r\n{"username":',
  );
  return socket;
}

/**
 * Sign-in limits in a cluster hold across API nodes: failures counted on one node lock the
 * username on every node, and sign-ins in flight on one node count on the others.
 */
describe('cluster sign-in limits: shared by every API node', () => {
  let db: TestDatabase;
  let apiA: TestApp;
  let apiB: TestApp;
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createPostgresDatabase();
    const env = {
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: db.config.type === 'postgres' ? db.config.schema! : '',
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      ROLE: 'api',
      LOGIN_MAX_FAILURES: '3',
    };
    apiA = await startTestApp({ db, env, listen: 0 });
    apiB = await startTestApp({ db, env, listen: 0 });
  }, 120_000);

  afterAll(async () => {
    await apiA?.close();
    await apiB?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.dispose();
  });

  it('should lock a username on node B after wrong passwords sent to node A', async () => {
    await apiA.http.post('/api/users').send({ username: 'carol', password: 'carol-password-1' });
    for (let i = 0; i < 3; i++)
      await apiA.anon.post('/api/auth/login').send({ username: 'carol', password: 'wrong' });

    const res = await apiB.anon
      .post('/api/auth/login')
      .send({ username: 'carol', password: 'carol-password-1' });

    expect(res.status).toBe(429);
  });

  it('should count sign-ins in flight on node A against the limit on node B', async () => {
    const hanging = await Promise.all([1, 2, 3, 4].map(() => hangingSignIn(apiA.baseUrl!)));
    try {
      await new Promise((r) => setTimeout(r, 200)); // all four reached node A
      const res = await apiB.anon
        .post('/api/auth/login')
        .send({ username: TEST_ADMIN.username, password: TEST_ADMIN.password });
      expect([res.status, res.body.message]).toEqual([
        429,
        expect.stringMatching(/too many sign-ins at once/),
      ]);
    } finally {
      for (const s of hanging) s.destroy();
    }
    // Once they are gone, sign-ins go through again (on either node).
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (
        await apiB.anon
          .post('/api/auth/login')
          .send({ username: TEST_ADMIN.username, password: TEST_ADMIN.password })
      ).status;
    }
    expect(status).toBe(200);
  });
});
