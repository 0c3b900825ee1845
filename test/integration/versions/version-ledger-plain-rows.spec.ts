import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Database } from '../../../src/persistence/database.js';
import type { ManifestRow } from '../../../src/versions/manifest.js';
import { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import {
  VersionLedgerRepository,
  type StoredFile,
} from '../../../src/versions/version-ledger.repository.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';

// The plain-row reads of a backup run (issue #21): change detection, closing what was not seen,
// the manifest's pages. Same answers as the entity reads they replace, on both databases.

function file(path: string, content = path, size = 10): StoredFile {
  return {
    path,
    size,
    sha256: content.padEnd(64, '0').slice(0, 64),
    sourceHashes: { md5: `md5-${content}` },
    sourceId: `id-${path}`,
    modifiedAt: new Date(1_700_000_000_123),
    storedPath: `v/${path}`,
  };
}

describe.each(TEST_DATABASES)('VersionLedgerRepository plain-row reads on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let sut: VersionLedgerRepository;

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    sut = new VersionLedgerRepository(new Database(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  async function version(taskId: string, seq: number): Promise<void> {
    await sut.createVersion({
      id: randomUUID(),
      taskId,
      runId: randomUUID(),
      seq,
      storageFolder: `v${seq}`,
      createdAt: new Date(),
    });
  }

  async function manifestPaths(taskId: string, seq: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await sut.runReads.listManifestFiles(taskId, seq, after, limit);
      out.push(...page.map((f) => f.path));
      if (page.length < limit) return out;
      after = page[page.length - 1]!.path;
    }
  }

  it('should answer change detection from the current records only, beyond one IN batch', async () => {
    const taskId = randomUUID();
    await version(taskId, 1);
    const paths = Array.from({ length: 1203 }, (_, i) => `d/f${i}.bin`);
    await sut.recordStoredFiles(
      taskId,
      1,
      paths.map((p, i) => file(p, p, 1000 + i)),
    );
    await version(taskId, 2);
    await sut.recordStoredFiles(taskId, 2, [file('d/f7.bin', 'new', 5_000_000_000)]);

    const live = await sut.runReads.findLiveChangeKeys(taskId, [...paths, 'not/there']);

    expect(live.size).toBe(1203);
    expect(live.get('d/f1202.bin')).toEqual({
      size: 2202,
      sourceHashes: { md5: 'md5-d/f1202.bin' },
      modifiedAt: new Date(1_700_000_000_123),
    });
    expect(live.get('d/f7.bin')?.size).toBe(5_000_000_000); // the current record, a number
    expect(live.has('not/there')).toBe(false);
  });

  it('should close only the unseen records opened before the version, past one page', async () => {
    const taskId = randomUUID();
    await version(taskId, 1);
    const paths = Array.from({ length: 5003 }, (_, i) => `p${i}`);
    await sut.insertRecords(paths.map((p) => ({ ...file(p), taskId, firstSeq: 1, lastSeq: null })));
    await version(taskId, 2);
    await sut.recordStoredFiles(taskId, 2, [file('new-in-2')]);
    const gone = new Set(['p0', 'p4999', 'p5001', 'new-in-2']);

    const closed = await sut.runReads.closeUnseenPaths(taskId, 2, (p) => !gone.has(p));

    expect(closed).toBe(3); // new-in-2 was opened by version 2 itself: not closed
    const closedRows = await ds.getRepository(VersionFileEntity).findBy({ taskId, lastSeq: 1 });
    expect(closedRows.map((r) => r.path).sort()).toEqual(['p0', 'p4999', 'p5001']);
    expect(await sut.runReads.closeUnseenPaths(taskId, 2, (p) => !gone.has(p))).toBe(0);
  });

  it('should page a version in path order, each record once, only what the version holds', async () => {
    const taskId = randomUUID();
    // Names that sort differently by bytes and by locale rules: a keyset page must agree with
    // its own order either way.
    const names = ['b', 'a b', 'a/b', 'a-b', 'A', 'é', 'e', 'a_b', 'a%b', 'z/y/x', 'Zeta'];
    await version(taskId, 1);
    await sut.recordStoredFiles(
      taskId,
      1,
      names.map((n) => file(n)),
    );
    await version(taskId, 2);
    await sut.recordStoredFiles(taskId, 2, [file('b', 'b2'), file('added')]);
    await sut.runReads.closeUnseenPaths(taskId, 2, (p) => p !== 'e');

    const v1 = await manifestPaths(taskId, 1, 3);
    const v2 = await manifestPaths(taskId, 2, 2);

    expect([...v1].sort()).toEqual([...names].sort());
    expect(v1).toHaveLength(names.length);
    expect([...v2].sort()).toEqual(
      [...names.filter((n) => n !== 'e'), 'added'].sort((a, b) => (a < b ? -1 : 1)),
    );
    const b2 = (await sut.runReads.listManifestFiles(taskId, 2, undefined, 100)).find(
      (f) => f.path === 'b',
    );
    expect(b2).toEqual({
      path: 'b',
      size: 10,
      sha256: 'b2'.padEnd(64, '0'),
      sourceHashes: { md5: 'md5-b2' },
      sourceId: 'id-b',
      modifiedAt: new Date(1_700_000_000_123),
      storedPath: 'v/b',
      firstSeq: 2,
    });
  });

  it("should give the manifest's rows as the query builder reads the records, field by field, page by page", async () => {
    // On SQLite the rows come straight from better-sqlite3 as arrays (Database.rowArrays), on
    // PostgreSQL through TypeORM's query(): both must say what the records hold.
    const taskId = randomUUID();
    await version(taskId, 1);
    const files = Array.from({ length: 25 }, (_, i) => ({
      ...file(`f/${String(i).padStart(2, '0')}`, `c${i}`, 3_000_000_000 + i),
      ...(i % 3 === 0 ? { sourceId: null, modifiedAt: null, sourceHashes: {} } : {}),
    }));
    await sut.recordStoredFiles(taskId, 1, files);
    await version(taskId, 2);
    await sut.recordStoredFiles(taskId, 2, [file('f/03', 'changed', 7)]);

    const rows: ManifestRow[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await sut.runReads.listManifestRows(taskId, 2, after, 10);
      rows.push(...page);
      if (page.length < 10) break;
      after = page[page.length - 1]!.path;
    }
    const expected = await sut.runReads.listManifestFiles(taskId, 2, undefined, 100);

    expect(rows).toHaveLength(25);
    expect(
      rows.map((r) => ({
        path: r.path,
        size: r.size,
        sha256: r.sha256,
        sourceHashes: JSON.parse(r.sourceHashesJson) as unknown,
        sourceId: r.sourceId,
        modifiedAt: r.modifiedAtMs === null ? null : new Date(r.modifiedAtMs),
        storedPath: r.storedPath,
        firstSeq: r.firstSeq,
      })),
    ).toEqual(expected);
    expect(rows.find((r) => r.path === 'f/03')).toMatchObject({ size: 7, firstSeq: 2 });
    expect(rows.find((r) => r.path === 'f/00')).toMatchObject({
      sourceId: null,
      modifiedAtMs: null,
      sourceHashesJson: '{}',
      size: 3_000_000_000,
    });
  });

  it('should list the seq, status and storage folder of every version, status and storage folder, newest first', async () => {
    const taskId = randomUUID();
    await version(taskId, 1);
    await version(taskId, 2);
    await version(taskId, 3);
    const v2 = await sut.findVersionBySeq(taskId, 2);
    await sut.setVersionStatus(v2!.id, 'partial');

    const states = await sut.runReads.listVersionStates(taskId);

    expect(states).toEqual([
      { seq: 3, status: 'running', storageFolder: 'v3' },
      { seq: 2, status: 'partial', storageFolder: 'v2' },
      { seq: 1, status: 'running', storageFolder: 'v1' },
    ]);
    expect(await sut.runReads.listVersionStates(randomUUID())).toEqual([]);
  });
});
