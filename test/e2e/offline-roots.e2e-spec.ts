import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDatabase, type TestDatabase } from '../support/databases.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Issue 18, item 1: a local target (an external drive) moved away, as an unmounted USB drive is.
 * The next run re-created the missing root on the system disk, wrote version 2 there and marked
 * it complete. Presence does not depend on the database: SQLite only.
 */
describe('offline roots: a missing drive is never re-created', () => {
  let t: TestApp;
  let db: TestDatabase;
  let dir: string;
  let src: string;
  let drive: string;
  let elsewhere: string;
  let srcId: string;
  let driveId: string;
  let elsewhereId: string;
  let taskId: string;
  const files: Record<string, Buffer> = Object.fromEntries(
    Array.from({ length: 21 }, (_, i) => [`p/${i}.jpg`, patternBytes(2000 + i, i + 1)]),
  );

  async function account(name: string, root: string): Promise<string> {
    return (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name, options: { root } })
        .expect(201)
    ).body.id;
  }

  async function backup(): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  async function exists(p: string): Promise<boolean> {
    return access(p).then(
      () => true,
      () => false,
    );
  }

  beforeAll(async () => {
    db = await createSqliteDatabase();
    t = await startTestApp({ db });
    dir = await mkdtemp(join(tmpdir(), 'cbe-offline-'));
    src = join(dir, 'src');
    drive = join(dir, 'usb');
    elsewhere = join(dir, 'elsewhere');
    await writeTree(src, files);
    await mkdir(drive);
    await mkdir(elsewhere);
    srcId = await account('src', src);
    driveId = await account('usb', drive);
    elsewhereId = await account('elsewhere', elsewhere);
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({ name: 'photos', sourceAccountId: srcId, targetAccountId: driveId, targetPath: 'B' })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('should refuse a local account whose folder does not exist, naming the folder', async () => {
    const missing = join(dir, 'not-mounted');

    const res = await t.http
      .post('/api/accounts')
      .send({ kind: 'local', name: 'ghost', options: { root: missing } })
      .expect(400);

    expect(res.body.message).toContain('options.root');
    expect(res.body.message).toContain(missing);
    expect(await exists(missing)).toBe(false);
  });

  it('should keep its volume marker out of listings and backups', async () => {
    const run = await backup();

    expect(run).toMatchObject({ status: 'completed', filesCopied: 21 });
    expect(await readdir(src)).toContain('.cbe-volume');
    expect(await readdir(drive)).toContain('.cbe-volume');
    const browse = (await t.http.get(`/api/accounts/${srcId}/browse?path=`).expect(200)).body;
    expect(browse.map((e: { name: string }) => e.name)).toEqual(['p']);
    expect(Object.keys(await hashTree(join(drive, 'B'))).some((p) => p.includes('volume'))).toBe(
      false,
    );
  });

  it('should not re-create a moved-away target, complete nothing, and keep version 1 restorable', async () => {
    await writeTree(src, { 'p/new.jpg': patternBytes(999, 77) });
    const away = join(dir, 'usb-unplugged');
    await rename(drive, away);

    const run = await backup();

    expect(run.status).toBe('offline');
    expect(run.errorMessage).toContain('the target is offline');
    expect(await exists(drive)).toBe(false); // nothing written where the drive was
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      id: string;
      seq: number;
      status: string;
    }>;
    expect(versions.filter((v) => v.status === 'complete').map((v) => v.seq)).toEqual([1]);

    await rename(away, drive); // plugged in again
    const restore = await t.http
      .post(`/api/versions/${versions.find((v) => v.seq === 1)!.id}/restore`)
      .send({ destination: { accountId: elsewhereId, path: 'v1' } })
      .expect(202);
    expect((await waitForRun(t.http, restore.body.id)).status).toBe('completed');
    expect(await hashTree(join(elsewhere, 'v1'))).toEqual(
      Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
    );
  });

  it('should call an empty folder mounted where the drive was offline, and write nothing into it', async () => {
    const away = join(dir, 'usb-unplugged-2');
    await rename(drive, away);
    await mkdir(drive); // the empty mount point an unmounted drive leaves behind

    const run = await backup();

    expect(run.status).toBe('offline');
    expect(run.errorMessage).toContain('no .cbe-volume marker');
    expect(await readdir(drive)).toEqual([]);
    await rm(drive, { recursive: true });
    await rename(away, drive);
    expect((await backup()).status).toBe('completed'); // the right drive is back
  });

  it('should call a source whose folder vanished offline, keeping every version', async () => {
    const away = join(dir, 'src-away');
    await rename(src, away);

    const run = await backup();

    expect(run.status).toBe('offline');
    expect(run.errorMessage).toContain('the source is offline');
    await rename(away, src);
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      status: string;
    }>;
    expect(versions.every((v) => v.status === 'complete')).toBe(true);
  });
});
