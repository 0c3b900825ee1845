import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../../src/connectors/connector.registry.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../emulators/dropbox/dropbox-emulator.js';
import { removeClusterBuild, startWorker, type WorkerProcess } from '../../support/cluster.js';
import {
  createPostgresDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../../support/databases.js';
import { patternBytes, writeTree } from '../../support/files.js';
import { slowLocalDescriptor } from '../../support/slow-local-connector.js';
import { startTestApp, waitForRun, type Http, type TestApp } from '../../support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PUBLIC_URL = 'http://cbe.test:8123';

interface SseEvent {
  type: string;
  data: Record<string, unknown>;
}

/** Reads a run's SSE stream to its end (the final event closes it) and parses its events. */
async function readStream(http: Http, runId: string): Promise<SseEvent[]> {
  const res = await http
    .get(`/api/runs/${runId}/stream`)
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      r.on('end', () => cb(null, text));
    })
    .timeout(60_000)
    .expect(200);
  return (res.body as string)
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const type = /^event: (.+)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.+)$/m.exec(block)?.[1] ?? '{}';
      return { type, data: JSON.parse(data) as Record<string, unknown> };
    });
}

/** A browser's consent: follows the emulator's Allow link back to the app's callback. */
async function allow(authorizeUrl: string): Promise<string> {
  const html = await (await fetch(authorizeUrl, { redirect: 'manual' })).text();
  const href = /<a id="allow" href="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  const decided = await fetch(new URL(href, authorizeUrl), { redirect: 'manual' });
  const u = new URL(decided.headers.get('location')!);
  return `${u.pathname}${u.search}`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('cluster ports: two API nodes and a worker share OAuth state, run events, cancel and pause', () => {
  let db: TestDatabase;
  let dropbox: DropboxEmulator;
  let apiA: TestApp;
  let apiB: TestApp;
  let worker: WorkerProcess;
  let workerEnv: Record<string, string>;
  let sourceRoot: string;
  let targetRoot: string;
  let slowSourceId: string;
  let targetId: string;
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createPostgresDatabase();
    dropbox = await startDropboxEmulator();
    const env = {
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: db.config.type === 'postgres' ? db.config.schema! : '',
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      QUEUE_LOCK_MS: '3000',
      PUBLIC_URL,
      DROPBOX_APP_KEY: dropbox.credentials.clientId,
      DROPBOX_APP_SECRET: dropbox.credentials.clientSecret,
    };
    const registry = () => new ConnectorRegistry([...CONNECTOR_DESCRIPTORS, slowLocalDescriptor]);
    apiA = await startTestApp({ db, registry: registry(), env: { ...env, ROLE: 'api' } });
    apiB = await startTestApp({ db, registry: registry(), env: { ...env, ROLE: 'api' } });
    const dataDir = await mkdtemp(join(tmpdir(), 'cbe-worker-'));
    workerEnv = { ...env, DATA_DIR: dataDir };
    worker = await startWorker(workerEnv);
    sourceRoot = await mkdtemp(join(tmpdir(), 'cbe-src-'));
    targetRoot = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++)
      files[`f${String(i).padStart(2, '0')}.bin`] = patternBytes(10_000, i);
    await writeTree(sourceRoot, files);
    const account = async (kind: string, root: string) =>
      (
        await apiA.http
          .post('/api/accounts')
          .send({ kind, name: kind, options: { root } })
          .expect(201)
      ).body.id as string;
    slowSourceId = await account('slow-local', sourceRoot);
    targetId = await account('local', targetRoot);
  }, 120_000);

  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await apiA?.close();
    await apiB?.close();
    await dropbox?.stop();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.dispose();
    removeClusterBuild();
    if (sourceRoot) await rm(sourceRoot, { recursive: true, force: true });
    if (targetRoot) await rm(targetRoot, { recursive: true, force: true });
  });

  async function startSlowRun(name: string): Promise<string> {
    const task = await apiA.http
      .post('/api/tasks')
      .send({
        name,
        sourceAccountId: slowSourceId,
        targetAccountId: targetId,
        targetPath: name,
        concurrency: 1,
      })
      .expect(201);
    return (await apiA.http.post(`/api/tasks/${task.body.id}/run`).expect(202)).body.id as string;
  }

  it('should finish an OAuth consent on another API node than the one that started it', async () => {
    const started = await apiA.http
      .post('/api/accounts/connect')
      .send({
        kind: 'dropbox',
        name: 'Dropbox via B',
        options: {
          apiBaseUrl: dropbox.hosts.api,
          contentBaseUrl: dropbox.hosts.content,
          notifyBaseUrl: dropbox.hosts.notify,
          authorizeBaseUrl: dropbox.hosts.www,
        },
      })
      .expect(200);
    const flowCookie = (started.headers['set-cookie'] as unknown as string[])
      .find((c) => c.startsWith('cbe_oauth='))!
      .split(';')[0]!;
    const callback = await allow(started.body.authorizeUrl as string);

    const res = await apiB.anon.get(callback).set('Cookie', `${flowCookie}; ${apiA.sessionCookie}`);

    expect([res.status, res.body.message]).toEqual([302, undefined]);
    const id = /connected=([0-9a-f-]{36})/.exec(res.headers.location as string)![1]!;
    const account = await apiB.http.get(`/api/accounts/${id}`).expect(200);
    expect(account.body).toMatchObject({ kind: 'dropbox', state: 'connected' });
    // The state works once, on every node.
    const replay = await apiA.anon
      .get(callback)
      .set('Cookie', `${flowCookie}; ${apiA.sessionCookie}`);
    expect(replay.status).toBe(400);
    expect(replay.body.message).toMatch(/already used/);
  }, 60_000);

  it("should stream a worker's run live through SSE on an API node", async () => {
    const runId = await startSlowRun('sse');
    const events = await readStream(apiA.http, runId);

    expect(worker.executed()).toContain(runId);
    expect(events[0]!.type).toBe('run');
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({
      type: 'completed',
      data: { id: runId, filesCopied: 40 },
    });
  }, 90_000);

  it("should pause, resume and cancel a worker's running run from the API nodes", async () => {
    const runId = await startSlowRun('pause');
    const get = async (http: Http) => (await http.get(`/api/runs/${runId}`).expect(200)).body;
    await until('the run to copy files', async () => {
      const r = await get(apiA.http);
      return r.status === 'running' && r.filesCopied >= 2 ? r : undefined;
    });

    await apiB.http.post(`/api/runs/${runId}/pause`).expect(202);
    const paused = await until('the pause', async () => {
      const r = await get(apiA.http);
      return r.phase === 'paused' ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const still = await get(apiB.http);
    expect([still.phase, still.filesCopied]).toEqual(['paused', paused.filesCopied]);

    await apiA.http.post(`/api/runs/${runId}/resume`).expect(202);
    await until('copying to go on', async () => {
      const r = await get(apiA.http);
      return r.phase !== 'paused' && r.filesCopied > paused.filesCopied ? r : undefined;
    });

    await apiB.http.post(`/api/runs/${runId}/cancel`).expect(202);
    const run = await waitForRun(apiA.http, runId, 30_000);
    expect(run.status).toBe('cancelled');
    expect(run.filesCopied).toBeLessThan(40);
  }, 90_000);

  it('should keep a run paused when its worker is replaced, until it is resumed from an API node', async () => {
    const runId = await startSlowRun('pause-restart');
    const get = async (http: Http) => (await http.get(`/api/runs/${runId}`).expect(200)).body;
    // Distinct source files stored in the target (a file the killed attempt copied but had not
    // recorded yet is copied again into the new attempt's version folder).
    const stored = async () =>
      new Set(
        (await readdir(join(targetRoot, 'pause-restart'), { recursive: true }))
          .map((n) => /(?:^|\/)(f\d\d\.bin)$/.exec(n)?.[1])
          .filter((n) => n !== undefined),
      ).size;
    await until('the run to copy files', async () => {
      const r = await get(apiA.http);
      return r.status === 'running' && r.filesCopied >= 2 ? r : undefined;
    });
    await apiB.http.post(`/api/runs/${runId}/pause`).expect(202);
    await until('the pause', async () =>
      (await get(apiA.http)).phase === 'paused' ? 1 : undefined,
    );

    // The worker dies while the run is paused; a new worker process takes the run over.
    await worker.kill('SIGKILL');
    worker = await startWorker(workerEnv);
    await until('the new worker to take the run', async () =>
      worker.executed().includes(runId) ? 1 : undefined,
    );
    await until('the run to be held again', async () =>
      (await get(apiB.http)).phase === 'paused' ? 1 : undefined,
    );
    const held = await stored();
    await new Promise((r) => setTimeout(r, 1_500));
    const still = await get(apiA.http);
    expect([still.status, still.phase, await stored()]).toEqual(['running', 'paused', held]);
    expect(held).toBeLessThan(40);

    await apiA.http.post(`/api/runs/${runId}/resume`).expect(202);
    const run = await waitForRun(apiB.http, runId, 60_000);
    expect(run.status).toBe('completed');
    expect(await stored()).toBe(40);
  }, 120_000);
});
