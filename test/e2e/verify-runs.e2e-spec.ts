import { mkdir, mkdtemp, open, readdir, rm, truncate, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DATABASES, type TestDatabase } from '../support/databases.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

interface VersionView {
  id: string;
  seq: number;
  status: string;
  statusReason: string | null;
  verifiedAt: string | null;
}

/**
 * Issue 18, item 3: a stored copy flipped by one byte, truncated or deleted on the target was only
 * noticed when someone restored it. A verify run finds each, marks the versions damaged, and the
 * next backup stores the lost files again.
 */
describe.each(TEST_DATABASES)('verify runs, ledger on %s', (_db, createDb) => {
  let t: TestApp;
  let db: TestDatabase;
  let dir: string;
  let src: string;
  let dst: string;
  let elsewhere: string;
  let dstId: string;
  let elsewhereId: string;
  let taskId: string;
  const files: Record<string, Buffer> = Object.fromEntries(
    ['a', 'b', 'c', 'd', 'e'].map((n, i) => [`${n}.jpg`, patternBytes(20_000 + i, i + 1)]),
  );

  async function run(path: string, body: object = {}): Promise<RunView> {
    const started = await t.http.post(path).send(body).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  async function versions(): Promise<VersionView[]> {
    const list = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
      .body as VersionView[];
    return list.sort((a, b) => a.seq - b.seq);
  }

  async function errors(runId: string): Promise<Record<string, string>> {
    const events = (await t.http.get(`/api/runs/${runId}/events?level=error`).expect(200))
      .body as Array<{ path: string; message: string }>;
    return Object.fromEntries(events.map((e) => [e.path.split('/').pop(), e.message]));
  }

  beforeAll(async () => {
    db = await createDb();
    t = await startTestApp({ db });
    dir = await mkdtemp(join(tmpdir(), 'cbe-verify-'));
    src = join(dir, 'src');
    dst = join(dir, 'dst');
    elsewhere = join(dir, 'elsewhere');
    await writeTree(src, files);
    await mkdir(dst);
    await mkdir(elsewhere);
    const account = async (name: string, root: string) =>
      (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name, options: { root } })
          .expect(201)
      ).body.id as string;
    const srcId = await account('src', src);
    dstId = await account('dst', dst);
    elsewhereId = await account('elsewhere', elsewhere);
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({ name: 'photos', sourceAccountId: srcId, targetAccountId: dstId, targetPath: 'B' })
        .expect(201)
    ).body.id;
    expect((await run(`/api/tasks/${taskId}/run`)).status).toBe('completed');
  });

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('should pass a sound backup, reading every copy back, and note when it was verified', async () => {
    const verify = await run(`/api/tasks/${taskId}/verify`, { readPercent: 100 });

    expect(verify).toMatchObject({ status: 'completed', filesTotal: 5, filesFailed: 0 });
    expect(verify.bytesCopied).toBe(Object.values(files).reduce((n, b) => n + b.length, 0));
    expect((await versions())[0]!.verifiedAt).not.toBeNull();
  });

  it('should find a flipped byte, a truncated and a deleted copy, mark the version damaged, and have the next backup store them again', async () => {
    const [folder] = (await readdir(join(dst, 'B'))).filter((n) => n.startsWith('v000001'));
    const stored = (name: string) => join(dst, 'B', folder!, name);
    const fh = await open(stored('a.jpg'), 'r+');
    await fh.write(Buffer.from([0x42 ^ (files['a.jpg']![100]! & 0xff)]), 0, 1, 100);
    await fh.close();
    await truncate(stored('b.jpg'), 1000);
    await unlink(stored('c.jpg'));

    const cheap = await run(`/api/tasks/${taskId}/verify`, { readPercent: 0 });
    expect(cheap).toMatchObject({ status: 'warning', filesFailed: 2 });
    expect(await errors(cheap.id)).toEqual({
      'b.jpg': expect.stringContaining('1000 bytes on the target, the ledger says 20001'),
      'c.jpg': expect.stringContaining('missing on the target'),
    });

    const full = await run(`/api/versions/${(await versions())[0]!.id}/verify`, {
      readPercent: 100,
    });
    expect(full).toMatchObject({ status: 'warning', filesFailed: 3 });
    expect((await errors(full.id))['a.jpg']).toContain('SHA-256 read back');
    const [v1] = await versions();
    expect(v1).toMatchObject({ status: 'damaged' });
    expect(v1!.statusReason).toContain('missing or different');

    const next = await run(`/api/tasks/${taskId}/run`);
    expect(next).toMatchObject({ status: 'completed', filesCopied: 3, filesUnchanged: 2 });
    const v2 = (await versions())[1]!;
    expect(v2.status).toBe('complete');
    expect((await run(`/api/versions/${v2.id}/verify`, { readPercent: 100 })).status).toBe(
      'completed',
    );
    const restore = await run(`/api/versions/${v2.id}/restore`, {
      destination: { accountId: elsewhereId, path: 'v2' },
    });
    expect(restore.status).toBe('completed');
    expect(await hashTree(join(elsewhere, 'v2'))).toEqual(
      Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
    );
  });

  it('should verify everything on a target account, and refuse a readPercent out of range', async () => {
    const started = await t.http.post(`/api/accounts/${dstId}/verify`).send({}).expect(202);
    expect(started.body).toHaveLength(1);
    // Version 1's damaged copies stay damaged; version 2 holds good ones and stays complete.
    expect(await waitForRun(t.http, started.body[0].id)).toMatchObject({
      status: 'warning',
      filesFailed: 2,
    });
    expect((await versions()).map((v) => v.status)).toEqual(['damaged', 'complete']);
    const bad = await t.http
      .post(`/api/tasks/${taskId}/verify`)
      .send({ readPercent: 150 })
      .expect(400);
    expect(bad.body.message).toContain('readPercent');
  });

  it('should call a verify of a target that is gone offline, not damage', async () => {
    await rm(join(dst, 'B'), { recursive: true });

    const verify = await run(`/api/tasks/${taskId}/verify`);

    expect(verify.status).toBe('offline');
    expect(verify.errorMessage).toContain('the target is offline');
  });
});
