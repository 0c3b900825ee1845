import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DATABASES, type TestDatabase } from '../support/databases.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

/**
 * Issue 18, item 7: a manifest line without `sourceHashes` answered 500 yet left a version marked
 * complete with fileCount 10 and 0 records. The import must validate every line first and write
 * nothing at all when one is bad.
 */
describe.each(TEST_DATABASES)('ledger import is all or nothing, ledger on %s', (_db, createDb) => {
  let t: TestApp;
  let db: TestDatabase;
  let dir: string;
  let src: string;
  let dst: string;
  let srcId: string;
  let dstId: string;

  async function taskCount(): Promise<number> {
    return ((await t.http.get('/api/tasks').expect(200)).body as unknown[]).length;
  }

  /** Copies the task's manifests to `folder/.cbe-manifests`, passing each line through `edit`. */
  async function copyManifests(
    folder: string,
    edit: (name: string, lineNo: number, line: string) => string,
  ): Promise<void> {
    const from = join(dst, 'B', '.cbe-manifests');
    const to = join(dst, folder, '.cbe-manifests');
    await mkdir(to, { recursive: true });
    for (const name of ['v000001.jsonl', 'v000002.jsonl']) {
      const lines = (await readFile(join(from, name), 'utf8')).split('\n');
      await writeFile(
        join(to, name),
        lines.map((l, i) => (l ? edit(name, i + 1, l) : l)).join('\n'),
      );
    }
  }

  beforeAll(async () => {
    db = await createDb();
    t = await startTestApp({ db });
    dir = await mkdtemp(join(tmpdir(), 'cbe-import-'));
    src = join(dir, 'src');
    dst = join(dir, 'dst');
    await writeTree(
      src,
      Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`f${i}.bin`, patternBytes(1000 + i, i + 1)]),
      ),
    );
    await mkdir(dst, { recursive: true });
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
    const taskId = (
      await t.http
        .post('/api/tasks')
        .send({ name: 'ten', sourceAccountId: srcId, targetAccountId: dstId, targetPath: 'B' })
        .expect(201)
    ).body.id;
    for (let i = 0; i < 2; i++) {
      if (i === 1) await writeTree(src, { 'new.bin': patternBytes(77, 99) });
      const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
      expect((await waitForRun(t.http, started.body.id)).status).toBe('completed');
    }
  });

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('should refuse a manifest line without sourceHashes with a 400 naming the file and line, writing nothing', async () => {
    await copyManifests('broken', (name, n, line) => {
      if (name !== 'v000001.jsonl' || n !== 6) return line;
      const { sourceHashes: _dropped, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    const before = await taskCount();

    const res = await t.http
      .post('/api/ledger/import')
      .send({ targetAccountId: dstId, targetPath: 'broken', sourceAccountId: srcId });

    expect(res.status).toBe(400);
    expect(res.body.message).toContain('v000001.jsonl');
    expect(res.body.message).toContain('line 6');
    expect(res.body.message).toContain('sourceHashes');
    expect(await taskCount()).toBe(before);
  });

  it('should write nothing when only a later manifest is broken (the earlier one is valid)', async () => {
    await copyManifests('late', (name, n, line) =>
      name === 'v000002.jsonl' && n === 3
        ? JSON.stringify({ ...(JSON.parse(line) as object), size: -5 })
        : line,
    );
    const before = await taskCount();

    const res = await t.http
      .post('/api/ledger/import')
      .send({ targetAccountId: dstId, targetPath: 'late', sourceAccountId: srcId });

    expect(res.status).toBe(400);
    expect(res.body.message).toContain("v000002.jsonl' line 3");
    expect(res.body.message).toContain('size');
    expect(await taskCount()).toBe(before);
  });

  it('should refuse a line that is not JSON and one with a path outside the backup, naming each', async () => {
    await copyManifests('garbled', (name, n, line) => {
      if (name === 'v000001.jsonl' && n === 2) return '{"path": "f0.bin", ';
      if (name === 'v000001.jsonl' && n === 4)
        return JSON.stringify({ ...(JSON.parse(line) as object), path: '../../etc/passwd' });
      return line;
    });

    const res = await t.http
      .post('/api/ledger/import')
      .send({ targetAccountId: dstId, targetPath: 'garbled', sourceAccountId: srcId })
      .expect(400);

    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("v000001.jsonl' line 2 is not valid JSON"),
        expect.stringMatching(/v000001\.jsonl' line 4: path/),
      ]),
    );
  });

  it('should still import intact manifests completely', async () => {
    await copyManifests('intact', (_name, _n, line) => line);
    const res = await t.http
      .post('/api/ledger/import')
      .send({ targetAccountId: dstId, targetPath: 'intact', sourceAccountId: srcId })
      .expect(201);
    const versions = (res.body.versions as Array<{ seq: number; fileCount: number }>).sort(
      (a, b) => a.seq - b.seq,
    );
    expect(versions.map((v) => [v.seq, v.fileCount])).toEqual([
      [1, 10],
      [2, 11],
    ]);
  });
});
