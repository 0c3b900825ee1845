import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorDescriptor } from '../../src/connectors/connector-descriptor.js';
import { AuthExpiredError, FatalError } from '../../src/connectors/connector.errors.js';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import { LocalConnector } from '../../src/connectors/local/local.connector.js';
import { localConnectorDescriptor } from '../../src/connectors/local/index.js';
import { FaultyConnector, type Fault } from '../support/faulty-connector.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

/** A 'faulty' connector kind: a local folder whose faults the test decides, call by call. */
let currentFault: Fault = () => undefined;
const faultyDescriptor: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'faulty',
  displayName: 'Local folder with injected faults (tests)',
  create: (settings) =>
    new FaultyConnector(
      new LocalConnector({ root: String(settings.config.root), fsync: false }),
      (op, path) => currentFault(op, path),
    ),
};

describe('runs that meet faults', () => {
  let t: TestApp;
  let sourceRoot: string;
  let targetRoot: string;
  let taskId: string;
  let targetId: string;
  const files: Record<string, Buffer> = Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [
      `f${String(i).padStart(2, '0')}.jpg`,
      patternBytes(40_000 + i * 1000, i + 1),
    ]),
  );

  beforeAll(async () => {
    t = await startTestApp({
      registry: new ConnectorRegistry([localConnectorDescriptor, faultyDescriptor]),
      env: { BACKUP_FILE_ATTEMPTS: '4' },
    });
    sourceRoot = await mkdtemp(join(tmpdir(), 'cbe-src-'));
    targetRoot = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
    await writeTree(sourceRoot, files);
    const src = await t.http
      .post('/api/accounts')
      .send({ kind: 'faulty', name: 'flaky source', options: { root: sourceRoot } })
      .expect(201);
    const dst = await t.http
      .post('/api/accounts')
      .send({ kind: 'faulty', name: 'flaky target', options: { root: targetRoot } })
      .expect(201);
    targetId = dst.body.id;
    const task = await t.http
      .post('/api/tasks')
      .send({
        name: 'flaky',
        sourceAccountId: src.body.id,
        targetAccountId: dst.body.id,
        targetPath: 'B',
        concurrency: 3,
      })
      .expect(201);
    taskId = task.body.id;
  });

  afterAll(async () => {
    await t?.close();
    await rm(sourceRoot, { recursive: true, force: true });
    await rm(targetRoot, { recursive: true, force: true });
  });

  afterEach(() => {
    currentFault = () => undefined;
  });

  async function storedFiles(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [rel, h] of Object.entries(await hashTree(join(targetRoot, 'B')))) {
      if (!rel.startsWith('.cbe-manifests/')) out[rel.split('/').slice(1).join('/')] = h;
    }
    return out;
  }

  it('should ride out cut and truncated downloads by retrying, and name each retry in the run log', async () => {
    const hits = new Map<string, number>();
    currentFault = (op, path) => {
      if (op !== 'read') return undefined;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path === 'f01.jpg' && n === 1) return 'cut';
      if (path === 'f02.jpg' && n <= 2) return 'truncate';
      return undefined;
    };
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id);

    expect(run).toMatchObject({ status: 'completed', filesCopied: 12, filesFailed: 0 });
    expect(await storedFiles()).toEqual(
      Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
    );
    const retries = (await t.http.get(`/api/runs/${run.id}/events?level=retry`).expect(200))
      .body as Array<{ message: string }>;
    expect(retries).toHaveLength(3);
    expect(
      retries.filter((r) => r.message.includes('f01.jpg') && r.message.includes('socket hang up')),
    ).toHaveLength(1);
    expect(
      retries.filter((r) => r.message.includes('f02.jpg') && r.message.includes('listed')),
    ).toHaveLength(2);
  });

  // Issue 18, item 5: one bad file never fails a run. It is skipped and listed, the version holds
  // everything else, and the next run copies only what is still missing.
  it('should skip a file that keeps failing, complete the rest with a warning, and finish the job next time without copying twice', async () => {
    await writeTree(sourceRoot, {
      'new-a.jpg': patternBytes(5000, 50),
      'new-b.jpg': patternBytes(6000, 51),
    });
    currentFault = (op, path) =>
      op === 'read' && path === 'new-b.jpg'
        ? new FatalError('permission denied on new-b.jpg')
        : undefined;
    const failed = await waitForRun(
      t.http,
      (await t.http.post(`/api/tasks/${taskId}/run`).expect(202)).body.id,
    );

    expect(failed).toMatchObject({
      status: 'warning',
      filesCopied: 1,
      filesFailed: 1,
      filesUnchanged: 12,
    });
    expect(failed.errorMessage).toContain('1 file(s) skipped');
    const errors = (await t.http.get(`/api/runs/${failed.id}/events?level=error`).expect(200)).body;
    expect(errors).toEqual([
      expect.objectContaining({
        path: 'new-b.jpg',
        code: 'FATAL',
        message: 'new-b.jpg: skipped: permission denied on new-b.jpg',
      }),
    ]);
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
      status: string;
    }>;
    expect(versions[0]).toMatchObject({
      seq: 2,
      status: 'complete',
      fileCount: 13,
      skippedCount: 1,
    });

    currentFault = () => undefined;
    const next = await waitForRun(
      t.http,
      (await t.http.post(`/api/tasks/${taskId}/run`).expect(202)).body.id,
    );
    expect(next).toMatchObject({ status: 'completed', filesCopied: 1, filesUnchanged: 13 });
    const after = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
      status: string;
      fileCount: number;
    }>;
    expect(after.map((v) => [v.seq, v.status, v.fileCount])).toEqual([
      [3, 'complete', 14],
      [2, 'complete', 13],
      [1, 'complete', 12],
    ]);
  });

  it('should stop at once when the target needs re-authentication, and say so on the account', async () => {
    await writeTree(sourceRoot, { 'more.jpg': patternBytes(100, 60) });
    currentFault = (op) =>
      op === 'write' ? new AuthExpiredError('refresh token revoked') : undefined;
    const run = await waitForRun(
      t.http,
      (await t.http.post(`/api/tasks/${taskId}/run`).expect(202)).body.id,
    );

    expect(run.status).toBe('failed');
    expect(run.errorMessage).toBe('refresh token revoked');
    const account = (await t.http.get(`/api/accounts/${targetId}`).expect(200)).body;
    expect(account).toMatchObject({ state: 'needs-reauth', stateMessage: 'refresh token revoked' });
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
    }>;
    expect(versions[0]!.seq).toBe(3); // a run that stored nothing leaves no version behind
  });

  it('should cancel a running run and keep its version from being marked complete', async () => {
    await writeTree(sourceRoot, { 'slow.jpg': patternBytes(100, 70) });
    // Hold the run on its read long enough for the cancel to arrive mid-transfer.
    currentFault = (op, path) =>
      op === 'read' && path === 'slow.jpg' ? { delayMs: 1500 } : undefined;
    const started = (await t.http.post(`/api/tasks/${taskId}/run`).expect(202)).body.id as string;
    await new Promise((r) => setTimeout(r, 300));
    await t.http.post(`/api/runs/${started}/cancel`).expect(202);
    const run = await waitForRun(t.http, started);
    expect(run.status).toBe('cancelled');
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      status: string;
    }>;
    expect(versions.filter((v) => v.status === 'running')).toEqual([]);
  });
});
