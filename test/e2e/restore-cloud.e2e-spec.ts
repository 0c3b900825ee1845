import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropboxFixture,
  googleDriveFixture,
  type WritableCloud,
} from '../support/cloud-fixtures.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Restores through the API with an emulated cloud on each side of the restore: versions backed up
 * from a local folder into Google Drive are restored from Drive back to the local folder (a
 * single file, a folder, the whole version; overwrite, skip identical, keep both), and versions
 * backed up from Dropbox to a local folder are restored into Dropbox where they came from, checked
 * by the SHA-256 of the bytes the emulator stores.
 */

type Tree = Record<string, Buffer>;

const hashes = (t: Tree): Record<string, string> =>
  Object.fromEntries(Object.entries(t).map(([p, b]) => [p, sha256(b)]));

const today = () => new Date().toISOString().slice(0, 10);

interface VersionView {
  id: string;
  seq: number;
  status: string;
  fileCount: number;
}

async function createAccount(
  t: TestApp,
  kind: string,
  name: string,
  options: Record<string, unknown>,
): Promise<string> {
  return (await t.http.post('/api/accounts').send({ kind, name, options }).expect(201)).body
    .id as string;
}

async function backup(t: TestApp, taskId: string): Promise<RunView> {
  const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
  return waitForRun(t.http, started.body.id as string, 30_000);
}

async function restore(t: TestApp, versionId: string, body: object): Promise<RunView> {
  const started = await t.http.post(`/api/versions/${versionId}/restore`).send(body).expect(202);
  expect(started.body).toMatchObject({ kind: 'restore', status: 'queued' });
  return waitForRun(t.http, started.body.id as string, 30_000);
}

async function versionsBySeq(t: TestApp, taskId: string): Promise<Map<number, VersionView>> {
  const list = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
    .body as VersionView[];
  return new Map(list.map((v) => [v.seq, v]));
}

describe('restore from a cloud backup target and into a cloud source', () => {
  let t: TestApp;
  let localRoot: string;
  let localId: string;

  beforeAll(async () => {
    t = await startTestApp();
    localRoot = await mkdtemp(join(tmpdir(), 'cbe-restore-cloud-'));
    localId = await createAccount(t, 'local', 'this machine', { root: localRoot, fsync: false });
  });

  afterAll(async () => {
    await t?.close();
    await rm(localRoot, { recursive: true, force: true });
  });

  describe('local -> Google Drive, restored from Drive to the local folder', () => {
    let drive: WritableCloud;
    let taskId: string;
    let versions: Map<number, VersionView>;
    const src = () => join(localRoot, 'src');
    const v1: Tree = {
      'a.txt': patternBytes(5_000, 1),
      // More than one 256 KiB upload chunk of the account.
      'b.bin': patternBytes(300_000, 2),
      'album/c.jpg': patternBytes(40_000, 3),
      'album/deep/d #1.jpg': patternBytes(1_000, 4),
    };
    const v2: Tree = {
      'a.txt': patternBytes(5_001, 11), // edited
      // b.bin deleted
      'album/c.jpg': v1['album/c.jpg']!,
      'album/deep/d #1.jpg': v1['album/deep/d #1.jpg']!,
      'new.txt': patternBytes(200, 5), // added
    };
    const v3: Tree = { ...v2, 'album/c.jpg': patternBytes(40_000, 12) }; // same size, new bytes

    const local = async (rel: string) => readFile(join(src(), ...rel.split('/')));
    const touch = async (rel: string, content: Buffer, secondsAhead: number) => {
      const abs = join(src(), ...rel.split('/'));
      await writeFile(abs, content);
      const at = new Date(Date.now() + secondsAhead * 1000);
      await utimes(abs, at, at);
    };

    beforeAll(async () => {
      drive = await googleDriveFixture.start();
      const driveId = await createAccount(t, 'google-drive', 'emulated drive', {
        ...drive.accountOptions,
      });
      await writeTree(src(), v1);
      taskId = (
        await t.http
          .post('/api/tasks')
          .send({
            name: 'local to drive',
            sourceAccountId: localId,
            sourcePath: 'src',
            targetAccountId: driveId,
            targetPath: 'Backups',
            concurrency: 3,
          })
          .expect(201)
      ).body.id;
      expect(await backup(t, taskId)).toMatchObject({ status: 'completed', filesCopied: 4 });
      await touch('a.txt', v2['a.txt']!, 10);
      await rm(join(src(), 'b.bin'));
      await touch('new.txt', v2['new.txt']!, 10);
      expect(await backup(t, taskId)).toMatchObject({ status: 'completed', filesCopied: 2 });
      await touch('album/c.jpg', v3['album/c.jpg']!, 20);
      expect(await backup(t, taskId)).toMatchObject({ status: 'completed', filesCopied: 1 });
      versions = await versionsBySeq(t, taskId);
      expect([...versions.values()].map((v) => [v.seq, v.status, v.fileCount])).toEqual([
        [3, 'complete', 4],
        [2, 'complete', 4],
        [1, 'complete', 4],
      ]);
      expect(hashes(await localTree(src()))).toEqual(hashes(v3));
    });

    afterAll(async () => {
      await drive?.stop();
    });

    it('should restore a single file deleted since, from Drive, byte for byte', async () => {
      drive.clearRequestLog();
      const run = await restore(t, versions.get(1)!.id, { paths: ['b.bin'] });

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 1,
        filesCopied: 1,
        filesFailed: 0,
        bytesCopied: 300_000,
      });
      expect(sha256(await local('b.bin'))).toBe(sha256(v1['b.bin']!));
      expect(drive.downloadRequests()).toHaveLength(1);
    });

    it('should overwrite the original file with an old version when asked', async () => {
      const run = await restore(t, versions.get(1)!.id, {
        paths: ['a.txt'],
        conflict: 'overwrite',
      });

      expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesUnchanged: 0 });
      expect(sha256(await local('a.txt'))).toBe(sha256(v1['a.txt']!));
    });

    it('should skip identical files and download only what differs when restoring a whole version', async () => {
      drive.clearRequestLog();
      const run = await restore(t, versions.get(3)!.id, { conflict: 'skip-identical' });

      // a.txt holds version 1's bytes now; everything else already equals version 3.
      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 1,
        filesUnchanged: 3,
        bytesCopied: v3['a.txt']!.length,
      });
      expect(drive.downloadRequests()).toHaveLength(1);
      // Restoring adds and replaces, never deletes: b.bin (back from version 1) stays.
      expect(hashes(await localTree(src()))).toEqual(hashes({ ...v3, 'b.bin': v1['b.bin']! }));
    });

    it('should keep both copies when restoring an old folder over edited files', async () => {
      await touch('album/c.jpg', Buffer.from('edited locally'), 30);
      const run = await restore(t, versions.get(1)!.id, {
        paths: ['album'],
        conflict: 'keep-both',
      });

      // Only the edited file gets a renamed copy; deep/d #1.jpg is there byte for byte and is left
      // alone (keep both never duplicates an identical file).
      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 2,
        filesCopied: 1,
        filesUnchanged: 1,
      });
      const day = today();
      expect((await readdir(join(src(), 'album'))).sort()).toEqual([
        `c (restored ${day}).jpg`,
        'c.jpg',
        'deep',
      ]);
      expect((await local('album/c.jpg')).toString()).toBe('edited locally');
      expect(sha256(await local(`album/c (restored ${day}).jpg`))).toBe(sha256(v1['album/c.jpg']!));
      expect(await readdir(join(src(), 'album', 'deep'))).not.toContain(
        `d #1 (restored ${day}).jpg`,
      );
      expect(sha256(await local('album/deep/d #1.jpg'))).toBe(sha256(v1['album/deep/d #1.jpg']!));
    });

    it('should rebuild an old version from the bytes of several version folders on Drive', async () => {
      const run = await restore(t, versions.get(2)!.id, {
        destination: { accountId: localId, path: 'v2-copy' },
      });

      expect(run).toMatchObject({ status: 'completed', filesCopied: 4, filesFailed: 0 });
      expect(hashes(await localTree(join(localRoot, 'v2-copy')))).toEqual(hashes(v2));
      // Version 2's unchanged files were stored by version 1: the restore read both folders.
      const stored = await drive.readTree('Backups');
      const folders = new Set(Object.keys(stored).map((p) => p.split('/')[0]!));
      expect([...folders].filter((f) => /^v00000[12]_/.test(f))).toHaveLength(2);
    });
  });

  describe('Dropbox -> local, restored into Dropbox where it came from', () => {
    let dropbox: WritableCloud;
    let taskId: string;
    let versions: Map<number, VersionView>;
    const folder = 'Camera Uploads';
    const v1: Tree = {
      // Restoring it into Dropbox takes an upload session of several 64 KiB chunks.
      'IMG_0001.jpg': patternBytes(150_000, 21),
      'notes.txt': patternBytes(700, 22),
      'sub/z.png': patternBytes(9_000, 23),
    };
    const v2: Tree = {
      ...v1,
      'IMG_0001.jpg': patternBytes(150_000, 31), // edited in Dropbox
      'IMG_0002.jpg': patternBytes(2_000, 32), // added
    };
    const inDropbox = async () => dropbox.readTree(folder);

    beforeAll(async () => {
      dropbox = await dropboxFixture.start();
      const dropboxId = await createAccount(t, 'dropbox', 'emulated dropbox', {
        ...dropbox.accountOptions,
      });
      await dropbox.seed(folder, v1, new Date(Date.now() - 3_600_000));
      taskId = (
        await t.http
          .post('/api/tasks')
          .send({
            name: 'dropbox to local',
            sourceAccountId: dropboxId,
            sourcePath: folder,
            targetAccountId: localId,
            targetPath: 'FromDropbox',
            concurrency: 3,
          })
          .expect(201)
      ).body.id;
      expect(await backup(t, taskId)).toMatchObject({ status: 'completed', filesCopied: 3 });
      await dropbox.seed(
        folder,
        { 'IMG_0001.jpg': v2['IMG_0001.jpg']!, 'IMG_0002.jpg': v2['IMG_0002.jpg']! },
        new Date(),
      );
      expect(await backup(t, taskId)).toMatchObject({ status: 'completed', filesCopied: 2 });
      versions = await versionsBySeq(t, taskId);
      expect(versions.get(2)).toMatchObject({ status: 'complete', fileCount: 4 });
      expect(hashes(await inDropbox())).toEqual(hashes(v2));
    });

    afterAll(async () => {
      await dropbox?.stop();
    });

    it('should write an old version back into Dropbox, in chunks, byte for byte', async () => {
      dropbox.clearRequestLog();
      const run = await restore(t, versions.get(1)!.id, { conflict: 'overwrite' });

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 3,
        filesCopied: 3,
        filesFailed: 0,
        bytesCopied: 150_000 + 700 + 9_000,
      });
      // What the emulator stores now: version 1's bytes, plus the file version 1 did not have.
      expect(hashes(await inDropbox())).toEqual(
        hashes({ ...v1, 'IMG_0002.jpg': v2['IMG_0002.jpg']! }),
      );
      const chunks = dropbox.uploadChunkRequests();
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      expect(chunks.every((c) => c.bytes <= dropbox.uploadChunkSize && !c.cut)).toBe(true);
      expect(chunks.reduce((s, c) => s + c.bytes, 0)).toBeGreaterThanOrEqual(150_000);
      // The bytes came from the local backup target, not from Dropbox.
      expect(dropbox.downloadRequests()).toEqual([]);
    });

    it('should tell identical files by the Dropbox content hash, downloading nothing', async () => {
      dropbox.clearRequestLog();
      const run = await restore(t, versions.get(2)!.id, { conflict: 'skip-identical' });

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 1,
        filesUnchanged: 3,
        bytesCopied: 150_000,
      });
      expect(hashes(await inDropbox())).toEqual(hashes(v2));
      expect(dropbox.downloadRequests()).toEqual([]);
    });

    it('should keep both in Dropbox when restoring a folder over a changed file', async () => {
      await dropbox.seed(folder, { 'sub/z.png': Buffer.from('changed in Dropbox') }, new Date());
      const run = await restore(t, versions.get(1)!.id, {
        paths: ['sub'],
        conflict: 'keep-both',
      });

      expect(run).toMatchObject({ status: 'completed', filesTotal: 1, filesCopied: 1 });
      const tree = await inDropbox();
      expect(tree['sub/z.png']!.toString()).toBe('changed in Dropbox');
      expect(sha256(tree[`sub/z (restored ${today()}).png`]!)).toBe(sha256(v1['sub/z.png']!));
      expect(Object.keys(tree).filter((p) => p.startsWith('sub/'))).toHaveLength(2);
    });
  });
});

async function localTree(root: string): Promise<Tree> {
  const out: Tree = {};
  for (const rel of Object.keys(await hashTree(root)))
    out[rel] = await readFile(join(root, ...rel.split('/')));
  return out;
}
