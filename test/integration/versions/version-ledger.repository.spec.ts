import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Database } from '../../../src/persistence/database.js';
import { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import {
  VersionLedgerRepository,
  type StoredFile,
} from '../../../src/versions/version-ledger.repository.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';

function file(path: string, content = path, size = 10): StoredFile {
  return {
    path,
    size,
    sha256: content.padEnd(64, '0').slice(0, 64),
    sourceHashes: { md5: 'abc' },
    sourceId: null,
    modifiedAt: new Date(1_700_000_000_000),
    storedPath: `v/${path}`,
  };
}

describe.each(TEST_DATABASES)('VersionLedgerRepository on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let sut: VersionLedgerRepository;
  const taskId = randomUUID();

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    sut = new VersionLedgerRepository(new Database(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  async function commit(seq: number, stored: StoredFile[], seen: string[]): Promise<void> {
    const v = await sut.createVersion({
      id: randomUUID(),
      taskId,
      runId: randomUUID(),
      seq,
      storageFolder: `v${seq}`,
      createdAt: new Date(),
    });
    await sut.recordStoredFiles(taskId, seq, stored);
    const set = new Set(seen);
    await sut.closeUnseen(taskId, seq, (p) => set.has(p));
    const totals = await sut.summarize(taskId, seq);
    await sut.completeVersion(v.id, {
      ...totals,
      manifestPath: `m${seq}`,
      completedAt: new Date(),
    });
  }

  async function pathsOf(seq: number): Promise<string[]> {
    const page = await sut.listVersionFiles(taskId, seq, { limit: 1000 });
    return page.files.map((f) => f.path).sort();
  }

  it('should keep every version listable while writing rows only for changes', async () => {
    await commit(
      1,
      [file('a.jpg'), file('b.jpg'), file('dir/c.jpg')],
      ['a.jpg', 'b.jpg', 'dir/c.jpg'],
    );
    const rowsAfter1 = await ds.getRepository(VersionFileEntity).countBy({ taskId });
    // v2: b changed, c deleted, d added, a untouched.
    await commit(2, [file('b.jpg', 'b2'), file('d.jpg')], ['a.jpg', 'b.jpg', 'd.jpg']);
    const rowsAfter2 = await ds.getRepository(VersionFileEntity).countBy({ taskId });

    expect(rowsAfter1).toBe(3);
    expect(rowsAfter2).toBe(5); // two new rows; a.jpg's row is shared by both versions
    expect(await pathsOf(1)).toEqual(['a.jpg', 'b.jpg', 'dir/c.jpg']);
    expect(await pathsOf(2)).toEqual(['a.jpg', 'b.jpg', 'd.jpg']);
    const v1b = (await sut.listVersionFiles(taskId, 1, { limit: 10 })).files.find(
      (f) => f.path === 'b.jpg',
    );
    const v2b = (await sut.listVersionFiles(taskId, 2, { limit: 10 })).files.find(
      (f) => f.path === 'b.jpg',
    );
    expect(v1b?.sha256).not.toBe(v2b?.sha256);
    expect(await sut.summarize(taskId, 2)).toEqual({ fileCount: 3, totalBytes: 30 });
  });

  it('should find the live record of a path for the next run to reuse', async () => {
    const live = await sut.findLiveByPaths(taskId, ['a.jpg', 'b.jpg', 'dir/c.jpg', 'nope']);
    expect([...live.keys()].sort()).toEqual(['a.jpg', 'b.jpg']);
    expect(live.get('b.jpg')?.firstSeq).toBe(2);
    expect(live.get('a.jpg')?.size).toBe(10);
  });

  it('should page a version listing and filter it by folder', async () => {
    const first = await sut.listVersionFiles(taskId, 1, { limit: 2 });
    expect(first.files).toHaveLength(2);
    expect(first.nextAfterId).toBeDefined();
    const second = await sut.listVersionFiles(taskId, 1, { limit: 2, afterId: first.nextAfterId });
    expect(second.files).toHaveLength(1);
    expect(second.nextAfterId).toBeUndefined();
    const inDir = await sut.listVersionFiles(taskId, 1, { limit: 10, prefix: 'dir' });
    expect(inDir.files.map((f) => f.path)).toEqual(['dir/c.jpg']);
  });

  it('should report the latest complete version and the next sequence number', async () => {
    expect((await sut.findLatestComplete(taskId))?.seq).toBe(2);
    expect(await sut.nextSeq(taskId)).toBe(3);
  });

  it('should keep the previous version intact when a later run stops half-way', async () => {
    const v3 = await sut.createVersion({
      id: randomUUID(),
      taskId,
      runId: randomUUID(),
      seq: 3,
      storageFolder: 'v3',
      createdAt: new Date(),
    });
    await sut.recordStoredFiles(taskId, 3, [file('a.jpg', 'a3')]);
    await sut.markRunningAsPartial();

    expect((await sut.findVersion(v3.id))?.status).toBe('partial');
    expect((await sut.findLatestComplete(taskId))?.seq).toBe(2);
    const v2a = (await sut.listVersionFiles(taskId, 2, { limit: 10 })).files.find(
      (f) => f.path === 'a.jpg',
    );
    expect(v2a?.sha256.startsWith('a.jpg')).toBe(true);
    // What the broken run stored is live, so the next run reuses it instead of copying again.
    expect((await sut.findLiveByPaths(taskId, ['a.jpg'])).get('a.jpg')?.firstSeq).toBe(3);
  });

  it('should store sizes above 4 GiB exactly', async () => {
    const big = { ...file('huge.bin'), size: 5 * 1024 ** 3 + 7 };
    await sut.recordStoredFiles(taskId, 4, [big]);
    expect((await sut.findLiveByPaths(taskId, ['huge.bin'])).get('huge.bin')?.size).toBe(
      5 * 1024 ** 3 + 7,
    );
  });

  it('should record more files than one statement holds with every field as given', async () => {
    const other = randomUUID();
    const stored = Array.from({ length: 1203 }, (_, i) => ({
      ...file(`many/f${i}.bin`, `c${i}`, 1000 + i),
      sourceHashes: i % 2 === 0 ? { md5: `m${i}`, quickXor: `q${i}` } : {},
      sourceId: i % 3 === 0 ? `id-${i}` : null,
      modifiedAt: i % 5 === 0 ? null : new Date(1_700_000_000_000 + i),
    }));
    await sut.recordStoredFiles(other, 1, stored);
    // Stored again in the same version (replaced) and in the next (the first closed at 1).
    await sut.recordStoredFiles(other, 1, [{ ...stored[7]!, sha256: 'e'.repeat(64) }]);
    await sut.recordStoredFiles(other, 2, [{ ...stored[8]!, sha256: 'f'.repeat(64) }]);

    const live = await sut.findLiveByPaths(
      other,
      stored.map((s) => s.path),
    );
    expect(live.size).toBe(1203);
    for (const [i, s] of stored.entries()) {
      const r = live.get(s.path)!;
      expect({
        size: r.size,
        sourceHashes: r.sourceHashes,
        sourceId: r.sourceId,
        modifiedAt: r.modifiedAt,
        storedPath: r.storedPath,
        firstSeq: r.firstSeq,
        sha256: r.sha256,
      }).toEqual({
        size: s.size,
        sourceHashes: s.sourceHashes,
        sourceId: s.sourceId,
        modifiedAt: s.modifiedAt,
        storedPath: s.storedPath,
        firstSeq: i === 8 ? 2 : 1,
        sha256: i === 7 ? 'e'.repeat(64) : i === 8 ? 'f'.repeat(64) : s.sha256,
      });
    }
    expect(await ds.getRepository(VersionFileEntity).countBy({ taskId: other })).toBe(1204);
    expect((await sut.listVersionFiles(other, 1, { limit: 2000 })).files).toHaveLength(1203);
  });
});
