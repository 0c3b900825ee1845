import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
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
}

describe.each(TEST_DATABASES)(
  'versions: restore, browse, diff, import and retention, ledger on %s',
  (_db, createDb) => {
    let t: TestApp;
    let db: TestDatabase;
    let dir: string;
    let src: string;
    let dst: string;
    let elsewhere: string;
    let srcId: string;
    let dstId: string;
    let elsewhereId: string;
    let taskId: string;
    const v1Files: Record<string, Buffer> = {
      'a.jpg': patternBytes(50_000, 1),
      'b.jpg': patternBytes(60_000, 2),
      'album/c.jpg': patternBytes(70_000, 3),
      'album/deep/d #1.jpg': patternBytes(10, 4),
    };
    const v2a = patternBytes(50_001, 11);
    let versions: VersionView[];

    async function backup(): Promise<RunView> {
      const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);
      await settle();
      return run;
    }

    /**
     * Waits until the task has no queued or running run (a prune may follow a backup). The prune
     * is queued by a listener of the backup's completed event, a moment after the backup's row
     * says completed: idle must hold over two looks 200 ms apart.
     */
    async function settle(): Promise<void> {
      let idleSince: number | undefined;
      for (;;) {
        const runs = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as RunView[];
        const busy = runs.some((r) => r.status === 'queued' || r.status === 'running');
        if (busy) idleSince = undefined;
        else if (idleSince === undefined) idleSince = Date.now();
        else if (Date.now() - idleSince >= 200) return;
        await new Promise((r) => setTimeout(r, 30));
      }
    }

    async function restore(versionId: string, body: object): Promise<RunView> {
      const started = await t.http
        .post(`/api/versions/${versionId}/restore`)
        .send(body)
        .expect(202);
      return waitForRun(t.http, started.body.id);
    }

    async function listVersions(id = taskId): Promise<VersionView[]> {
      return (await t.http.get(`/api/tasks/${id}/versions`).expect(200)).body as VersionView[];
    }

    async function allFiles(
      versionId: string,
    ): Promise<Array<{ path: string; sha256: string; size: number; storedPath: string }>> {
      const out = [];
      let afterId: number | null = null;
      do {
        const page: {
          files: Array<{ path: string; sha256: string; size: number; storedPath: string }>;
          nextAfterId: number | null;
        } = (
          await t.http
            .get(`/api/versions/${versionId}/files?limit=2${afterId ? `&afterId=${afterId}` : ''}`)
            .expect(200)
        ).body;
        out.push(...page.files);
        afterId = page.nextAfterId;
      } while (afterId !== null);
      return out
        .map(({ path, sha256: h, size, storedPath }) => ({ path, sha256: h, size, storedPath }))
        .sort((a, b) => a.path.localeCompare(b.path));
    }

    beforeAll(async () => {
      db = await createDb();
      t = await startTestApp({ db });
      dir = await mkdtemp(join(tmpdir(), 'cbe-restore-'));
      src = join(dir, 'src');
      dst = join(dir, 'dst');
      elsewhere = join(dir, 'elsewhere');
      await writeTree(src, v1Files);
      await mkdir(elsewhere, { recursive: true });
      await mkdir(dst, { recursive: true }); // a local account's folder must exist
      srcId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'src', options: { root: src } })
          .expect(201)
      ).body.id;
      dstId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'dst', options: { root: dst } })
          .expect(201)
      ).body.id;
      elsewhereId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'elsewhere', options: { root: elsewhere } })
          .expect(201)
      ).body.id;
      taskId = (
        await t.http
          .post('/api/tasks')
          .send({ name: 'photos', sourceAccountId: srcId, targetAccountId: dstId, targetPath: 'B' })
          .expect(201)
      ).body.id;

      expect((await backup()).status).toBe('completed');
      await writeFile(join(src, 'a.jpg'), v2a);
      await utimes(join(src, 'a.jpg'), new Date(), new Date(Date.now() + 10_000));
      await rm(join(src, 'b.jpg'));
      await writeTree(src, { 'new.jpg': patternBytes(123, 5) });
      expect((await backup()).status).toBe('completed');
      versions = await listVersions();
    });

    afterAll(async () => {
      await t?.close();
      await db?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    const v = (seq: number) => versions.find((x) => x.seq === seq)!;

    it('should restore a whole old version elsewhere, byte for byte', async () => {
      const run = await restore(v(1).id, { destination: { accountId: elsewhereId, path: 'v1' } });
      expect(run).toMatchObject({ status: 'completed', filesCopied: 4, filesFailed: 0 });
      expect(await hashTree(join(elsewhere, 'v1'))).toEqual(
        Object.fromEntries(Object.entries(v1Files).map(([p, b]) => [p, sha256(b)])),
      );
    });

    it('should restore a single file to its original location, overwriting', async () => {
      const run = await restore(v(1).id, { paths: ['a.jpg'], conflict: 'overwrite' });
      expect(run).toMatchObject({ status: 'completed', filesCopied: 1 });
      expect(sha256(await readFile(join(src, 'a.jpg')))).toBe(sha256(v1Files['a.jpg']!));
    });

    it('should skip identical files and restore only what differs', async () => {
      const run = await restore(v(2).id, { conflict: 'skip-identical' });
      expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesUnchanged: 3 });
      expect(sha256(await readFile(join(src, 'a.jpg')))).toBe(sha256(v2a));
    });

    it('should keep both when asked, under a new name', async () => {
      await writeFile(join(src, 'album', 'c.jpg'), 'edited locally');
      const run = await restore(v(1).id, { paths: ['album'], conflict: 'keep-both' });
      // Only the file that differs gets a renamed copy; the identical one in deep/ is left alone
      // (it used to be duplicated as "(restored ...)", which the next backup then picked up).
      expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesUnchanged: 1 });
      const names = (await readdir(join(src, 'album'))).sort();
      const day = new Date().toISOString().slice(0, 10);
      expect(names).toEqual(['c (restored ' + day + ').jpg', 'c.jpg', 'deep']);
      expect(await readFile(join(src, 'album', 'c.jpg'), 'utf8')).toBe('edited locally');
      expect(sha256(await readFile(join(src, 'album', `c (restored ${day}).jpg`)))).toBe(
        sha256(v1Files['album/c.jpg']!),
      );
      expect(
        (await readdir(join(src, 'album', 'deep'))).filter((n) => n.includes('restored')),
      ).toHaveLength(0);
    });

    it('should refuse a restore of a path the version does not hold, naming it', async () => {
      const res = await t.http
        .post(`/api/versions/${v(1).id}/restore`)
        .send({ paths: ['nope'] })
        .expect(400);
      expect(res.body.message).toContain("'nope' is neither a file nor a folder");
      const bad = await t.http
        .post(`/api/versions/${v(1).id}/restore`)
        .send({ paths: ['../x'], conflict: 'sometimes' })
        .expect(400);
      expect(bad.body.message).toContain('conflict must be one of');
    });

    it('should browse a version folder by folder and diff two versions', async () => {
      const root = (await t.http.get(`/api/versions/${v(1).id}/tree`).expect(200)).body;
      expect(root.folders).toEqual(['album']);
      expect(root.files.map((f: { name: string }) => f.name)).toEqual(['a.jpg', 'b.jpg']);
      const album = (await t.http.get(`/api/versions/${v(1).id}/tree?path=album`).expect(200)).body;
      expect(album).toMatchObject({
        folders: ['deep'],
        files: [expect.objectContaining({ name: 'c.jpg' })],
      });
      const diff = (
        await t.http.get(`/api/versions/${v(2).id}/diff?against=${v(1).id}`).expect(200)
      ).body;
      expect(diff).toEqual({ added: ['new.jpg'], changed: ['a.jpg'], deleted: ['b.jpg'] });
    });

    it('should rebuild an identical ledger from the manifests on the target, and restore from it', async () => {
      const res = await t.http
        .post('/api/ledger/import')
        .send({ targetAccountId: dstId, targetPath: 'B', sourceAccountId: srcId, name: 'rebuilt' })
        .expect(201);
      const imported = (res.body.versions as VersionView[]).sort((a, b) => a.seq - b.seq);
      expect(imported.map((x) => [x.seq, x.status, x.fileCount])).toEqual([
        [1, 'complete', 4],
        [2, 'complete', 4],
      ]);
      for (const seq of [1, 2]) {
        expect(await allFiles(imported[seq - 1]!.id)).toEqual(await allFiles(v(seq).id));
      }
      const run = await restore(imported[0]!.id, {
        destination: { accountId: elsewhereId, path: 'from-import' },
      });
      expect(run.status).toBe('completed');
      expect(Object.keys(await hashTree(join(elsewhere, 'from-import'))).sort()).toEqual(
        Object.keys(v1Files).sort(),
      );
    });

    it('should refuse manifest paths that would escape the restore folder, importing nothing', async () => {
      const stored = (await allFiles(v(1).id)).find((f) => f.path === 'a.jpg')!;
      const line = (p: string) =>
        JSON.stringify({
          ...stored,
          path: p,
          sourceHashes: {},
          sourceId: null,
          modifiedAt: null,
          firstSeq: 1,
        });
      const header = {
        format: 'cbe-manifest/1',
        taskId: 'x',
        taskName: 'evil',
        seq: 1,
        versionId: 'x',
        createdAt: new Date().toISOString(),
        sourceAccountKind: 'local',
        sourcePath: '',
        storageFolder: 'B/v000001',
      };
      await mkdir(join(dst, 'evil', '.cbe-manifests'), { recursive: true });
      await writeFile(
        join(dst, 'evil', '.cbe-manifests', 'v000001.jsonl'),
        [JSON.stringify(header), line('../escaped.jpg'), line('ok/fine.jpg')].join('\n') + '\n',
      );
      const tasksBefore = (await t.http.get('/api/tasks').expect(200)).body.length;

      // Every manifest line is checked before anything is written (issue 18, item 7): a path
      // that leaves the backup refuses the whole import, naming the line.
      const res = await t.http
        .post('/api/ledger/import')
        .send({ targetAccountId: dstId, targetPath: 'evil', sourceAccountId: elsewhereId })
        .expect(400);

      expect(res.body.message).toContain("v000001.jsonl' line 2: path");
      expect((await t.http.get('/api/tasks').expect(200)).body.length).toBe(tasksBefore);
      expect(await readdir(elsewhere)).not.toContain('escaped.jpg');
    });

    it('should keep exactly what the retention policy says, free unreferenced bytes, and keep kept versions restorable', async () => {
      await t.http.put(`/api/tasks/${taskId}/retention`).send({ keepLast: 2 }).expect(200);
      await writeTree(src, { 'v3.jpg': patternBytes(10, 30) });
      await backup();
      await writeTree(src, { 'v4.jpg': patternBytes(10, 40) });
      await backup(); // each completed backup is followed by a prune run

      const after = await listVersions();
      expect(after.map((x) => x.seq)).toEqual([4, 3]);
      const runs = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as Array<
        RunView & { kind: string }
      >;
      expect(
        runs.filter((r) => r.kind === 'prune' && r.status === 'completed').length,
      ).toBeGreaterThanOrEqual(2);
      // b.jpg lived only in version 1 and the first a.jpg only in version 1: their bytes are gone.
      const stored = await hashTree(join(dst, 'B'));
      expect(Object.keys(stored).filter((p) => p.endsWith('/b.jpg'))).toEqual([]);
      expect(
        Object.keys(stored)
          .filter((p) => p.startsWith('.cbe-manifests/'))
          .sort(),
      ).toEqual(['.cbe-manifests/v000003.jsonl', '.cbe-manifests/v000004.jsonl']);
      await rm(join(elsewhere, 'v3'), { recursive: true, force: true });
      const run = await restore(after[1]!.id, {
        destination: { accountId: elsewhereId, path: 'v3' },
      });
      expect(run).toMatchObject({ status: 'completed', filesFailed: 0 });
      expect(Object.keys(await hashTree(join(elsewhere, 'v3'))).sort()).toEqual(
        (await allFiles(after[1]!.id)).map((f) => f.path).sort(),
      );
    });

    it('should record a rename as the old path deleted and the new one added, both versions restorable', async () => {
      const { rename } = await import('node:fs/promises');
      await rename(
        join(src, 'album', 'deep', 'd #1.jpg'),
        join(src, 'album', 'deep', 'd renamed.jpg'),
      );
      const run = await backup();
      // A renamed file is copied once under its new name: stored copies are per path, not per content.
      expect(run).toMatchObject({ status: 'completed', filesCopied: 1 });
      const [latest, previous] = await listVersions();
      const diff = (
        await t.http.get(`/api/versions/${latest!.id}/diff?against=${previous!.id}`).expect(200)
      ).body;
      expect(diff).toEqual({
        added: ['album/deep/d renamed.jpg'],
        changed: [],
        deleted: ['album/deep/d #1.jpg'],
      });
      const restored = await restore(previous!.id, {
        paths: ['album/deep'],
        destination: { accountId: elsewhereId, path: 'before-rename' },
      });
      expect(restored.status).toBe('completed');
      const before = Object.keys(await hashTree(join(elsewhere, 'before-rename')));
      expect(before).toContain('album/deep/d #1.jpg');
      expect(before).not.toContain('album/deep/d renamed.jpg');
    });
  },
);
