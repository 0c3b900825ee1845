import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { TEST_DATABASES, type TestDatabase } from '../support/databases.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

describe.each(TEST_DATABASES)(
  'local to local backup through the API, ledger on %s',
  (_db, createDb) => {
    let t: TestApp;
    let db: TestDatabase;
    let sourceRoot: string;
    let targetRoot: string;
    let sourceId: string;
    let targetId: string;
    let taskId: string;

    const files: Record<string, Buffer> = {
      'IMG_0001.JPG': patternBytes(70_000, 1),
      'IMG_0002.heic': patternBytes(120_000, 2),
      'clip.mov': patternBytes(50_000, 3),
      'notes.txt': patternBytes(300, 4),
      '2024/été ☀/IMG #3 100%.jpg': patternBytes(2_000_000, 5),
      '2024/empty.jpg': Buffer.alloc(0),
    };
    const expectedCopied = [
      'IMG_0001.JPG',
      'IMG_0002.heic',
      '2024/été ☀/IMG #3 100%.jpg',
      '2024/empty.jpg',
    ];

    beforeAll(async () => {
      db = await createDb();
      t = await startTestApp({ db });
      sourceRoot = await mkdtemp(join(tmpdir(), 'cbe-src-'));
      targetRoot = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
      await writeTree(sourceRoot, files);
    });

    afterAll(async () => {
      await t?.close();
      await db?.dispose();
      await rm(sourceRoot, { recursive: true, force: true });
      await rm(targetRoot, { recursive: true, force: true });
    });

    /** The target's files of one version folder, relative to it. */
    async function versionTree(): Promise<Record<string, Record<string, string>>> {
      const all = await hashTree(join(targetRoot, 'Backups'));
      const out: Record<string, Record<string, string>> = {};
      for (const [rel, hash] of Object.entries(all)) {
        const [folder, ...rest] = rel.split('/');
        (out[folder!] ??= {})[rest.join('/')] = hash;
      }
      return out;
    }

    it('should create two local accounts and a filtered task', async () => {
      sourceId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'Photos', options: { root: sourceRoot } })
          .expect(201)
      ).body.id;
      targetId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'Drive', options: { root: targetRoot } })
          .expect(201)
      ).body.id;
      const task = await t.http
        .post('/api/tasks')
        .send({
          name: 'Photos to drive',
          sourceAccountId: sourceId,
          targetAccountId: targetId,
          targetPath: 'Backups',
          filter: { mode: 'include', extensions: 'jpg, HEIC' },
          concurrency: 3,
        })
        .expect(201);
      taskId = task.body.id;
      expect(task.body.filter).toEqual({ mode: 'include', extensions: ['jpg', 'heic'] });
    });

    it('should copy exactly the filtered files, byte for byte, and record the run', async () => {
      const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 4,
        filesUnchanged: 0,
        bytesUnchanged: 0,
        filesFiltered: 2,
        filesFailed: 0,
      });
      const bytes = expectedCopied.reduce((n, p) => n + files[p]!.length, 0);
      expect(run.bytesCopied).toBe(bytes);
      expect(run.bytesTotal).toBe(bytes);
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
      const tree = await versionTree();
      const folders = Object.keys(tree).filter((f) => f.startsWith('v000001_'));
      expect(folders).toHaveLength(1);
      expect(tree[folders[0]!]).toEqual(
        Object.fromEntries(expectedCopied.map((p) => [p, sha256(files[p]!)])),
      );
      expect(Object.keys(tree['.cbe-manifests'] ?? {})).toEqual(['v000001.jsonl']);
    });

    it('should not copy anything again when nothing changed', async () => {
      const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 0,
        filesUnchanged: 4,
        bytesCopied: 0,
      });
      // The unchanged files' bytes are counted too: the run says how much it left alone.
      const bytes = expectedCopied.reduce((n, p) => n + files[p]!.length, 0);
      expect(run.bytesUnchanged).toBe(bytes);
      expect(run.bytesTotal).toBe(bytes);
      const tree = await versionTree();
      expect(Object.keys(tree).filter((f) => f.startsWith('v0000'))).toHaveLength(1); // no second data folder
      expect(Object.keys(tree['.cbe-manifests']!).sort()).toEqual([
        'v000001.jsonl',
        'v000002.jsonl',
      ]);
    });

    it('should copy only the changed and new files, and keep both versions listable', async () => {
      const changed = patternBytes(70_001, 99);
      await writeFile(join(sourceRoot, 'IMG_0001.JPG'), changed);
      await utimes(join(sourceRoot, 'IMG_0001.JPG'), new Date(), new Date(Date.now() + 5000));
      await writeTree(sourceRoot, { 'new/IMG_9.jpg': patternBytes(10, 9) });
      await rm(join(sourceRoot, 'IMG_0002.heic'));

      const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);

      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 2,
        filesUnchanged: 2,
      });
      const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
        .body as Array<{
        id: string;
        seq: number;
        status: string;
        fileCount: number;
      }>;
      expect(versions.map((v) => [v.seq, v.status, v.fileCount])).toEqual([
        [3, 'complete', 4],
        [2, 'complete', 4],
        [1, 'complete', 4],
      ]);
      const v3 = (await t.http.get(`/api/versions/${versions[0]!.id}/files`).expect(200)).body;
      const byPath = Object.fromEntries(
        (v3.files as Array<{ path: string; sha256: string; storedInVersion: number }>).map((f) => [
          f.path,
          f,
        ]),
      );
      expect(Object.keys(byPath).sort()).toEqual([
        '2024/empty.jpg',
        '2024/été ☀/IMG #3 100%.jpg',
        'IMG_0001.JPG',
        'new/IMG_9.jpg',
      ]);
      expect(byPath['IMG_0001.JPG']).toMatchObject({ sha256: sha256(changed), storedInVersion: 3 });
      expect(byPath['2024/empty.jpg']).toMatchObject({ storedInVersion: 1 });
      const v1 = (
        await t.http.get(`/api/versions/${versions[2]!.id}/files?prefix=2024`).expect(200)
      ).body;
      expect(v1.files.map((f: { path: string }) => f.path).sort()).toEqual([
        '2024/empty.jpg',
        '2024/été ☀/IMG #3 100%.jpg',
      ]);
      const v3Folder = (await readdir(join(targetRoot, 'Backups'))).find((f) =>
        f.startsWith('v000003_'),
      )!;
      expect(await hashTree(join(targetRoot, 'Backups', v3Folder))).toEqual({
        'IMG_0001.JPG': sha256(changed),
        'new/IMG_9.jpg': sha256(patternBytes(10, 9)),
      });
    });

    it('should refuse a second run while one is queued or running', async () => {
      const first = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      const second = await t.http.post(`/api/tasks/${taskId}/run`);
      await waitForRun(t.http, first.body.id);
      expect(second.status).toBe(409);
      expect(second.body.message).toContain('already has a');
    });

    describe('bad input', () => {
      it('should answer 400 naming the field for malformed bodies', async () => {
        const cases: Array<[string, unknown, string]> = [
          ['/api/accounts', { kind: 'local', name: 'x' }, 'options must be an object'],
          [
            '/api/accounts',
            { kind: 'nope', name: 'x', options: {} },
            "kind 'nope' is not a connector kind",
          ],
          ['/api/accounts', { kind: 'local', name: 'x', options: {} }, 'options.root is required'],
          [
            '/api/accounts',
            { kind: 'local', name: 'x', options: { root: 5 } },
            'options.root must be a string',
          ],
          [
            '/api/accounts',
            { kind: 'local', name: 'x', options: { root: '/tmp', colour: 'red' } },
            'options.colour is not an option',
          ],
          [
            '/api/accounts',
            { kind: 'local', name: '', options: { root: '/tmp' } },
            'name should not be empty',
          ],
          [
            '/api/tasks',
            { name: 'x', sourceAccountId: 'nope', targetAccountId: 'nope' },
            "sourceAccountId 'nope' does not name an account",
          ],
          [
            '/api/tasks',
            { name: 'x', sourceAccountId: sourceId, targetAccountId: targetId, concurrency: 0 },
            'concurrency must not be less than 1',
          ],
          [
            '/api/tasks',
            {
              name: 'x',
              sourceAccountId: sourceId,
              targetAccountId: targetId,
              filter: { mode: 'some' },
            },
            'filter.mode must be one of',
          ],
          [
            '/api/tasks',
            {
              name: 'x',
              sourceAccountId: sourceId,
              targetAccountId: targetId,
              filter: { mode: 'include', extensions: 'j/pg' },
            },
            "filter.extensions: 'j/pg' is not a file extension",
          ],
          [
            '/api/tasks',
            {
              name: 'x',
              sourceAccountId: sourceId,
              targetAccountId: targetId,
              sourcePath: '../etc',
            },
            "sourcePath: path '../etc' contains a '..' segment",
          ],
          [
            '/api/tasks',
            {
              name: 'x',
              sourceAccountId: sourceId,
              targetAccountId: sourceId,
              sourcePath: 'a',
              targetPath: 'a/b',
            },
            "targetPath 'a/b' lies inside sourcePath 'a'",
          ],
          [
            '/api/tasks',
            { name: 'x', sourceAccountId: sourceId, targetAccountId: targetId, unknownField: 1 },
            'property unknownField should not exist',
          ],
        ];
        for (const [url, body, expected] of cases) {
          const res = await t.http.post(url).send(body as object);
          expect({ url, body, status: res.status }).toEqual({ url, body, status: 400 });
          expect(res.body.message).toContain(expected);
        }
      });

      it('should answer 400 for a body that is not JSON', async () => {
        const res = await t.http
          .post('/api/tasks')
          .set('content-type', 'application/json')
          .send('{"name": ');
        expect(res.status).toBe(400);
        expect(res.body.statusCode).toBe(400);
      });

      it('should answer 400 for a bad query parameter', async () => {
        const res = await t.http.get('/api/runs?limit=abc');
        expect(res.status).toBe(400);
        expect(res.body.message).toContain('limit');
      });

      it('should answer 404 for unknown ids', async () => {
        for (const url of [
          '/api/tasks/x',
          '/api/accounts/x',
          '/api/runs/x',
          '/api/versions/x',
          '/api/versions/x/files',
          '/api/tasks/x/versions',
        ]) {
          const res = await t.http.get(url);
          expect({ url, status: res.status }).toEqual({ url, status: 404 });
        }
        await t.http.post('/api/tasks/x/run').expect(404);
        await t.http.delete('/api/accounts/x').expect(404);
      });

      it('should refuse to delete an account a task uses', async () => {
        const res = await t.http.delete(`/api/accounts/${sourceId}`).expect(409);
        expect(res.body.message).toContain('Photos to drive');
      });
    });

    it('should never return secrets and should serve the OpenAPI document', async () => {
      const docs = await t.http.get('/api/docs/openapi.json').expect(200);
      expect(docs.body.paths['/api/tasks/{id}/run']).toBeDefined();
      const connectors = await t.http.get('/api/connectors').expect(200);
      expect(connectors.body.map((c: { kind: string }) => c.kind)).toContain('local');
    });
  },
);
