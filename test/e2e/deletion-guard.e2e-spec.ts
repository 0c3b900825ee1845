import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DATABASES, type TestDatabase } from '../support/databases.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

interface VersionView {
  id: string;
  seq: number;
  status: string;
  fileCount: number;
  statusReason: string | null;
}

/**
 * Issue 18, item 2: the source folder was emptied; the run committed a complete version of 0
 * files, and with keepLast 1 the prune that followed deleted every earlier version and its bytes.
 */
describe.each(TEST_DATABASES)('deletion guard, ledger on %s', (_db, createDb) => {
  let t: TestApp;
  let db: TestDatabase;
  let dir: string;
  let dst: string;
  let elsewhere: string;
  let dstId: string;
  let elsewhereId: string;

  const files = (n: number, seed: number): Record<string, Buffer> =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`album/${i}.jpg`, patternBytes(3000 + i, seed + i)]),
    );

  async function account(name: string, root: string): Promise<string> {
    return (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name, options: { root } })
        .expect(201)
    ).body.id;
  }

  async function task(name: string, src: string): Promise<string> {
    const srcId = await account(name, src);
    return (
      await t.http
        .post('/api/tasks')
        .send({ name, sourceAccountId: srcId, targetAccountId: dstId, targetPath: name })
        .expect(201)
    ).body.id;
  }

  async function backup(taskId: string): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id);
    await settle(taskId);
    return run;
  }

  /** Waits until the task has no queued or running run (a prune may follow a backup). */
  async function settle(taskId: string): Promise<void> {
    for (;;) {
      const runs = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as RunView[];
      if (!runs.some((r) => r.status === 'queued' || r.status === 'running')) return;
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  async function versions(taskId: string): Promise<VersionView[]> {
    const list = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
      .body as VersionView[];
    return list.sort((a, b) => a.seq - b.seq);
  }

  beforeAll(async () => {
    db = await createDb();
    t = await startTestApp({ db });
    dir = await mkdtemp(join(tmpdir(), 'cbe-guard-'));
    dst = join(dir, 'dst');
    elsewhere = join(dir, 'elsewhere');
    await mkdir(dst);
    await mkdir(elsewhere);
    dstId = await account('dst', dst);
    elsewhereId = await account('elsewhere', elsewhere);
  });

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('should hold the version of an emptied source, prune nothing, keep v1 restorable, and prune after approval', async () => {
    const src = join(dir, 'emptied');
    const v1Files = files(25, 1);
    await writeTree(src, v1Files);
    const taskId = await task('emptied', src);
    await t.http.put(`/api/tasks/${taskId}/retention`).send({ keepLast: 1 }).expect(200);
    expect(await backup(taskId)).toMatchObject({ status: 'completed', filesCopied: 25 });

    await rm(join(src, 'album'), { recursive: true }); // wiped, or the drive unmounted
    const held = await backup(taskId);

    expect(held.status).toBe('warning');
    expect(held.errorMessage).toContain('version held for approval');

    const [v1, v2] = await versions(taskId);
    expect(v1).toMatchObject({ seq: 1, status: 'complete', fileCount: 25 });
    expect(v2).toMatchObject({ seq: 2, status: 'held', fileCount: 0 });
    expect(v2!.statusReason).toContain('listed no files at all');
    const preview = (await t.http.get(`/api/tasks/${taskId}/prune/preview`).expect(200)).body;
    expect(preview).toMatchObject({ policy: { keepLast: 1 }, versions: [], files: 0, bytes: 0 });

    const restore = await t.http
      .post(`/api/versions/${v1!.id}/restore`)
      .send({ destination: { accountId: elsewhereId, path: 'v1' } })
      .expect(202);
    expect((await waitForRun(t.http, restore.body.id)).status).toBe('completed');
    expect(await hashTree(join(elsewhere, 'v1'))).toEqual(
      Object.fromEntries(Object.entries(v1Files).map(([p, b]) => [p, sha256(b)])),
    );

    const approved = await t.http.post(`/api/versions/${v2!.id}/approve`).expect(200);
    expect(approved.body.status).toBe('complete');
    await settle(taskId);

    expect((await versions(taskId)).map((v) => [v.seq, v.status])).toEqual([[2, 'complete']]);
    expect(
      Object.keys(await hashTree(join(dst, 'emptied'))).filter((p) => p.endsWith('.jpg')),
    ).toEqual([]);
  });

  it('should preview what a policy would delete, in versions, files and bytes', async () => {
    const src = join(dir, 'preview');
    await writeTree(src, { 'a.jpg': patternBytes(1000, 7) });
    const taskId = await task('preview', src);
    await backup(taskId);
    await writeTree(src, { 'a.jpg': patternBytes(2000, 8) });
    await backup(taskId);

    const preview = (await t.http.get(`/api/tasks/${taskId}/prune/preview?keepLast=1`).expect(200))
      .body;

    expect(preview.versions.map((v: { seq: number }) => v.seq)).toEqual([1]);
    expect(preview).toMatchObject({ files: 1, bytes: 1000 });
    expect((await versions(taskId)).length).toBe(2); // nothing deleted
    const bad = await t.http.get(`/api/tasks/${taskId}/prune/preview?keepLast=-1`).expect(400);
    expect(bad.body.message).toContain('keepLast');
  });

  it('should hold a version deleting most files, and after a discard compare with the last good version again', async () => {
    const src = join(dir, 'mostly');
    const all = files(30, 100);
    await writeTree(src, all);
    const taskId = await task('mostly', src);
    await backup(taskId);
    const aside = join(dir, 'aside');
    await mkdir(aside);
    for (let i = 0; i < 25; i++)
      await rename(join(src, 'album', `${i}.jpg`), join(aside, `${i}.jpg`));

    await backup(taskId);
    const held = (await versions(taskId))[1]!;
    expect(held).toMatchObject({ status: 'held', fileCount: 5 });
    expect(held.statusReason).toContain('25 deleted and 0 changed of 30 files');

    const discarded = await t.http.post(`/api/versions/${held.id}/discard`).expect(200);
    expect(discarded.body.status).toBe('discarded');
    await t.http.post(`/api/versions/${held.id}/approve`).expect(409);
    // The files come back (moved back, times kept): nothing to copy, the ledger is as after v1.
    for (let i = 0; i < 25; i++)
      await rename(join(aside, `${i}.jpg`), join(src, 'album', `${i}.jpg`));
    const run = await backup(taskId);

    expect(run).toMatchObject({ status: 'completed', filesCopied: 0, filesUnchanged: 30 });
    const after = await versions(taskId);
    expect(after.map((v) => [v.seq, v.status, v.fileCount])).toEqual([
      [1, 'complete', 30],
      [2, 'discarded', 5],
      [3, 'complete', 30],
    ]);
    expect(await readdir(aside)).toEqual([]);
    await access(join(src, 'album', '0.jpg'));
  });
});
