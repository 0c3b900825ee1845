import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../../src/connectors/connector.registry.js';
import { SLOTS_QUEUE } from '../../../src/scheduler/bullmq-schedule-trigger.js';
import { removeClusterBuild, startWorker, type WorkerProcess } from '../../support/cluster.js';
import {
  createPostgresDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../../support/databases.js';
import { patternBytes, sha256, writeTree } from '../../support/files.js';
import { slowLocalDescriptor } from '../../support/slow-local-connector.js';
import { startTestApp, waitForRun, type TestApp } from '../../support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface VersionView {
  id: string;
  seq: number;
  status: string;
}

describe('cluster mode: an API node and two worker processes on Redis and PostgreSQL', () => {
  let db: TestDatabase;
  let api: TestApp;
  let workers: WorkerProcess[] = [];
  let sourceRoot: string;
  let targetRoot: string;
  let sourceId: string;
  let slowSourceId: string;
  let targetId: string;
  const prefix = `cbe-test-${randomBytes(4).toString('hex')}`;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createPostgresDatabase();
    if (db.config.type !== 'postgres') throw new Error('expected PostgreSQL');
    env = {
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: db.config.schema!,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      // A killed worker's run is handed on after ~3 s instead of 30 s.
      QUEUE_LOCK_MS: '3000',
      BACKUP_PARALLEL_RUNS: '3',
    };
    api = await startTestApp({
      db,
      registry: new ConnectorRegistry([...CONNECTOR_DESCRIPTORS, slowLocalDescriptor]),
      env: { ...env, ROLE: 'api' },
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'cbe-worker-'));
    workers = await Promise.all([
      startWorker({ ...env, DATA_DIR: join(dataDir, 'a') }),
      startWorker({ ...env, DATA_DIR: join(dataDir, 'b') }),
    ]);
    sourceRoot = await mkdtemp(join(tmpdir(), 'cbe-src-'));
    targetRoot = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
    // An account on a folder that does not exist is refused (an unplugged drive): make them first.
    await mkdir(join(sourceRoot, 'small'));
    await mkdir(join(sourceRoot, 'slow'));
    const account = async (kind: string, root: string) =>
      (
        await api.http
          .post('/api/accounts')
          .send({ kind, name: kind, options: { root } })
          .expect(201)
      ).body.id as string;
    sourceId = await account('local', join(sourceRoot, 'small'));
    slowSourceId = await account('slow-local', join(sourceRoot, 'slow'));
    targetId = await account('local', targetRoot);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await api?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.dispose();
    removeClusterBuild();
    if (sourceRoot) await rm(sourceRoot, { recursive: true, force: true });
    if (targetRoot) await rm(targetRoot, { recursive: true, force: true });
  });

  it('should execute each of 20 runs exactly once across two workers', async () => {
    const files = {
      'a.jpg': patternBytes(3_000, 1),
      'd/b.jpg': patternBytes(5_000, 2),
      'd/e/c.txt': patternBytes(700, 3),
    };
    await writeTree(join(sourceRoot, 'small'), files);
    const runIds: string[] = [];
    const taskIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const task = await api.http
        .post('/api/tasks')
        .send({
          name: `t${i}`,
          sourceAccountId: sourceId,
          targetAccountId: targetId,
          targetPath: `many/t${i}`,
        })
        .expect(201);
      taskIds.push(task.body.id);
      runIds.push((await api.http.post(`/api/tasks/${task.body.id}/run`).expect(202)).body.id);
    }
    for (const id of runIds) {
      const run = await waitForRun(api.http, id, 90_000);
      expect(run).toMatchObject({ status: 'completed', filesCopied: 3, bytesCopied: 8_700 });
    }
    for (const taskId of taskIds) {
      const versions = (await api.http.get(`/api/tasks/${taskId}/versions`).expect(200))
        .body as VersionView[];
      expect(versions.map((v) => [v.seq, v.status])).toEqual([[1, 'complete']]);
    }
    const executed = workers.flatMap((w) => w.executed());
    expect([...executed].sort()).toEqual([...runIds].sort());
    expect(workers.map((w) => w.executed().length).every((n) => n > 0)).toBe(true);
  }, 120_000);

  it('should let another worker finish a run whose worker was killed, losing no file', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++)
      files[`f${String(i).padStart(2, '0')}.bin`] = patternBytes(20_000, 100 + i);
    await writeTree(join(sourceRoot, 'slow'), files);
    const task = await api.http
      .post('/api/tasks')
      .send({
        name: 'slow',
        sourceAccountId: slowSourceId,
        targetAccountId: targetId,
        targetPath: 'slow',
        concurrency: 1,
      })
      .expect(201);
    const runId = (await api.http.post(`/api/tasks/${task.body.id}/run`).expect(202)).body.id;

    // Wait until the run is well under way (past a ledger flush), then kill its worker.
    let victim: WorkerProcess | undefined;
    for (let i = 0; i < 600; i++) {
      victim = workers.find((w) => w.executed().includes(runId));
      const run = (await api.http.get(`/api/runs/${runId}`).expect(200)).body;
      if (victim && run.status === 'running' && run.filesCopied >= 22) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(victim).toBeDefined();
    await victim!.kill('SIGKILL');
    const survivor = workers.find((w) => w !== victim)!;

    const run = await waitForRun(api.http, runId, 90_000);
    expect(run.status).toBe('completed');
    expect(survivor.executed()).toContain(runId);

    const versions = (await api.http.get(`/api/tasks/${task.body.id}/versions`).expect(200))
      .body as VersionView[];
    expect(versions.map((v) => [v.seq, v.status])).toEqual([
      [2, 'complete'],
      [1, 'partial'],
    ]);
    const list = async (versionId: string) =>
      (await api.http.get(`/api/versions/${versionId}/files?limit=1000`).expect(200)).body
        .files as Array<{ path: string; sha256: string; storedPath: string }>;
    const recordedByKilled = await list(versions[1]!.id);
    const final = await list(versions[0]!.id);
    expect(recordedByKilled.length).toBeGreaterThan(0);
    // Every file is in the final version once, with the source's bytes on the target.
    expect(final.map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
    for (const f of final) {
      expect(f.sha256).toBe(sha256(files[f.path]!));
      const stored = await readFile(join(targetRoot, ...f.storedPath.split('/')));
      expect(createHash('sha256').update(stored).digest('hex')).toBe(f.sha256);
    }
    // What the killed attempt recorded was reused, not copied again.
    expect(run.filesUnchanged).toBe(recordedByKilled.length);
    expect(run.filesCopied).toBe(40 - recordedByKilled.length);
    const reused = final.filter((f) => f.storedPath.startsWith('slow/v000001_'));
    expect(reused.map((f) => f.path).sort()).toEqual(recordedByKilled.map((f) => f.path).sort());
  }, 120_000);

  it('should fire a schedule slot as one job with a task + slot id, making one run', async () => {
    const task = await api.http
      .post('/api/tasks')
      .send({
        name: 'scheduled',
        sourceAccountId: sourceId,
        targetAccountId: targetId,
        targetPath: 'scheduled',
        schedule: { kind: 'daily', time: '03:00', timezone: 'America/New_York' },
      })
      .expect(201);
    const next = Date.parse(task.body.nextRuns[0]);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(SLOTS_QUEUE, { connection, prefix });
    try {
      const delayed = await queue.getDelayed();
      const job = delayed.find((j) => j.id === `repeat:task-${task.body.id}:${next}`);
      expect(job).toBeDefined();
      // Let the slot come now: a worker turns it into exactly one run for that slot.
      await job!.promote();
      let runs: Array<{ id: string; trigger: string; scheduledFor: string }> = [];
      for (let i = 0; runs.length === 0 && i < 400; i++) {
        await new Promise((r) => setTimeout(r, 50));
        runs = (await api.http.get(`/api/runs?taskId=${task.body.id}`).expect(200)).body;
      }
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ trigger: 'schedule' });
      expect(Date.parse(runs[0]!.scheduledFor)).toBe(next);
      expect((await waitForRun(api.http, runs[0]!.id, 60_000)).status).toBe('completed');
      // The scheduler moved on to the following slot.
      const after = (await queue.getDelayed()).map((j) => j.id);
      expect(after).toContain(`repeat:task-${task.body.id}:${Date.parse(task.body.nextRuns[1])}`);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 120_000);

  it('should fire a verify slot as its own job, making one verify run', async () => {
    const task = await api.http
      .post('/api/tasks')
      .send({
        name: 'verified weekly',
        sourceAccountId: sourceId,
        targetAccountId: targetId,
        targetPath: 'verified',
        verify: {
          readPercent: 100,
          schedule: { kind: 'weekly', time: '04:00', weekdays: ['sun'], timezone: 'UTC' },
        },
      })
      .expect(201);
    const next = Date.parse(task.body.verify.nextRuns[0]);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(SLOTS_QUEUE, { connection, prefix });
    try {
      const delayed = await queue.getDelayed();
      // No backup schedule: only the verify scheduler is armed.
      expect(delayed.some((j) => j.id?.startsWith(`repeat:task-${task.body.id}:`))).toBe(false);
      const job = delayed.find((j) => j.id === `repeat:verify-${task.body.id}:${next}`);
      expect(job).toBeDefined();
      await job!.promote();
      let runs: Array<{ id: string; kind: string; trigger: string; scheduledFor: string }> = [];
      for (let i = 0; runs.length === 0 && i < 400; i++) {
        await new Promise((r) => setTimeout(r, 50));
        runs = (await api.http.get(`/api/runs?taskId=${task.body.id}`).expect(200)).body;
      }
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ kind: 'verify', trigger: 'schedule' });
      expect(Date.parse(runs[0]!.scheduledFor)).toBe(next);
      await waitForRun(api.http, runs[0]!.id, 60_000);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 120_000);
});
