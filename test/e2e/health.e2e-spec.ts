import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPostgresDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../support/databases.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A TCP relay in front of the local PostgreSQL: closing it is "the database is gone" for the
 * engine (connections cut, new ones refused) without touching the server other suites share.
 */
class DatabaseRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<DatabaseRelay> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const relay = new DatabaseRelay(port, target);
    await relay.open();
    return relay;
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

describe('health: liveness and readiness', () => {
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  let relay: DatabaseRelay | undefined;

  afterEach(async () => {
    await t?.close().catch(() => undefined);
    await relay?.cut().catch(() => undefined);
    await db?.dispose();
    t = undefined;
    db = undefined;
    relay = undefined;
  });

  it('should report ready with every check, then 503 naming the database when it is gone, then ready again', async () => {
    db = await createPostgresDatabase();
    const pgUrl = new URL(TEST_POSTGRES_URL);
    relay = await DatabaseRelay.start({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const viaRelay = new URL(TEST_POSTGRES_URL);
    viaRelay.port = String(relay.port);
    t = await startTestApp({
      db: { ...db, config: { ...db.config, url: viaRelay.toString() } as typeof db.config },
    });

    const live = await t.anon.get('/api/health/live').expect(200);
    expect(live.body).toMatchObject({ status: 'ok' });
    const ready = await t.anon.get('/api/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up', type: 'postgres' }, dataDir: { status: 'up' } },
    });

    await relay.cut();
    const gone = await t.anon.get('/api/health/ready');
    expect(gone.status).toBe(503);
    expect(gone.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    expect(JSON.stringify(gone.body.error.database)).toMatch(/message/);
    // Liveness stays up: the process is fine, it cannot work; restarting it would not help.
    await t.anon.get('/api/health/live').expect(200);

    await relay.open();
    for (let i = 0; ; i++) {
      const again = await t.anon.get('/api/health/ready');
      if (again.status === 200) break;
      if (i > 50) throw new Error(`still not ready: ${JSON.stringify(again.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('should fail readiness naming DATA_DIR when it has less free space than required', async () => {
    t = await startTestApp({ env: { HEALTH_MIN_FREE_MB: '10000000' } });
    const res = await t.anon.get('/api/health/ready').expect(503);
    expect(res.body.error.dataDir).toMatchObject({ status: 'down' });
    expect(JSON.stringify(res.body.error.dataDir)).toContain('HEALTH_MIN_FREE_MB');
  });

  it("should check the signed-in user's accounts on demand", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cbe-health-'));
    try {
      t = await startTestApp();
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'here', options: { root: dir } })
        .expect(201);
      // A drive unplugged after its account was made.
      await mkdir(join(dir, 'missing'));
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'gone', options: { root: join(dir, 'missing') } })
        .expect(201);
      await rm(join(dir, 'missing'), { recursive: true });
      await t.anon.get('/api/health/accounts').expect(401);
      const res = await t.http.get('/api/health/accounts').expect(200);
      const byName = Object.fromEntries(
        (res.body.accounts as Array<{ name: string; status: string }>).map((a) => [a.name, a]),
      );
      expect(res.body.status).toBe('error');
      expect(byName.here).toMatchObject({ status: 'up' });
      expect(byName.gone).toMatchObject({ status: 'down', error: expect.any(String) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
