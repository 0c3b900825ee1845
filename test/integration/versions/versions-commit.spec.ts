import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { Connector } from '../../../src/connectors/connector.js';
import { Database } from '../../../src/persistence/database.js';
import { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import {
  checkManifestLine,
  type ManifestFile,
  type ManifestLine,
} from '../../../src/versions/manifest.js';
import {
  VersionLedgerRepository,
  type StoredFile,
} from '../../../src/versions/version-ledger.repository.js';
import { VersionsService } from '../../../src/versions/versions.service.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';

// Committing a version after a full listing (issue #21, the no-change run): the current records
// are not read again when the run's unchanged count proves it saw every one of them, and the
// manifest made from plain rows lists what the ledger holds, line for line as before.

function file(path: string, i: number, hashes: Record<string, string> = {}): StoredFile {
  return {
    path,
    size: 100 + i,
    sha256: String(i).padStart(64, '0'),
    sourceHashes: hashes,
    sourceId: i % 2 === 0 ? null : `id "${i}"`,
    modifiedAt: i % 3 === 0 ? null : new Date(1_700_000_000_000 + i),
    storedPath: `t/v1/${path}`,
  };
}

/** Paths that need escaping in JSON, several UTF-8 widths, and sort differently by locale. */
const PATHS = [
  'a.txt',
  'b/quote "q".txt',
  'b/line\u2028sep.txt',
  'c/é accent.txt',
  'c/日本語.txt',
  'd/emoji 😀.txt',
  'Zeta',
  ...Array.from({ length: 2100 }, (_, i) => `e/f${i}.bin`),
];

describe.each(TEST_DATABASES)('VersionsService.commitVersion on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let ledger: VersionLedgerRepository;
  let sut: VersionsService;

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    ledger = new VersionLedgerRepository(new Database(ds));
    sut = new VersionsService(ledger);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  /** A target that keeps what is written to it. */
  function target(): { connector: Connector; written: Map<string, string> } {
    const written = new Map<string, string>();
    const connector = {
      write: async (path: string, body: Readable) => {
        const parts: Buffer[] = [];
        for await (const c of body) parts.push(Buffer.from(c as Buffer));
        written.set(path, Buffer.concat(parts).toString('utf8'));
        return { path, name: path, isFolder: false };
      },
    } as unknown as Connector;
    return { connector, written };
  }

  async function commit(
    task: { id: string; name: string; sourcePath: string; targetPath: string },
    seq: number,
    gone: Parameters<VersionsService['commitVersion']>[3],
    stored: StoredFile[] = [],
    /** The engine that commits (another one of a cluster; this test's by default). */
    engine: VersionsService = sut,
  ): Promise<string[]> {
    const v = await engine.beginVersion(task, randomUUID(), new Date());
    expect(v.seq).toBe(seq);
    await engine.recordStoredFiles(task.id, v.seq, stored);
    const { connector, written } = target();
    await engine.commitVersion(task, v, connector, gone, async () => undefined, { guard: null });
    const [text] = [...written.values()];
    return text!.trimEnd().split('\n').slice(1); // without the header
  }

  /** The lines as the manifest was made before plain rows: JSON.stringify of each record. */
  async function linesAsBefore(taskId: string, seq: number): Promise<string[]> {
    const files: ManifestFile[] = await ledger.runReads.listManifestFiles(
      taskId,
      seq,
      undefined,
      100_000,
    );
    return files.map((f) =>
      JSON.stringify({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        sourceHashes: f.sourceHashes,
        sourceId: f.sourceId,
        modifiedAt: f.modifiedAt ? f.modifiedAt.toISOString() : null,
        storedPath: f.storedPath,
        firstSeq: f.firstSeq,
      } satisfies ManifestLine),
    );
  }

  function newTask() {
    return { id: randomUUID(), name: 'docs', sourcePath: 's', targetPath: 't' };
  }

  it('should close nothing and read no current record when the run saw every one unchanged', async () => {
    const task = newTask();
    const first = PATHS.map((p, i) => file(p, i, i === 1 ? { md5: 'ab'.repeat(16) } : {}));
    const v1 = await commit(task, 1, { isSeen: () => true, unchangedSeen: 0 }, first);
    const closeUnseen = jest.spyOn(ledger.runReads, 'closeUnseenPaths');
    const isSeen = jest.fn(() => false);

    const v2 = await commit(task, 2, { isSeen, unchangedSeen: PATHS.length });

    expect(closeUnseen).not.toHaveBeenCalled();
    expect(isSeen).not.toHaveBeenCalled();
    closeUnseen.mockRestore();
    expect(v2).toEqual(v1);
    expect(v2).toHaveLength(PATHS.length);
    expect(v2).toEqual(await linesAsBefore(task.id, 2));
    const v = await ledger.findVersionBySeq(task.id, 2);
    expect(v).toMatchObject({ status: 'complete', fileCount: PATHS.length });
  });

  it('should ask isSeen of every current record when the counts differ, and close the unseen', async () => {
    const task = newTask();
    await commit(
      task,
      1,
      { isSeen: () => true, unchangedSeen: 0 },
      PATHS.map((p, i) => file(p, i)),
    );
    const deleted = new Set(['c/日本語.txt', 'e/f7.bin']);

    // One file changed and stored again, two deleted at the source: 3 fewer unchanged.
    const lines = await commit(
      task,
      2,
      { isSeen: (p) => !deleted.has(p), unchangedSeen: PATHS.length - 3 },
      [file('a.txt', 9999)],
    );

    expect(lines).toHaveLength(PATHS.length - 2);
    expect(lines).toEqual(await linesAsBefore(task.id, 2));
    const closed = await ds
      .getRepository(VersionFileEntity)
      .findBy({ taskId: task.id, lastSeq: 1 });
    expect(closed.map((r) => r.path).sort()).toEqual(['a.txt', 'c/日本語.txt', 'e/f7.bin']);
    for (const l of lines) expect(checkManifestLine(JSON.parse(l), 2)).toMatchObject({ ok: true });
  });

  it('should make a version that changed nothing from the lines of the last manifest, reading no record', async () => {
    const task = newTask();
    const v1 = await commit(
      task,
      1,
      { isSeen: () => true, unchangedSeen: 0 },
      PATHS.map((p, i) => file(p, i)),
    );
    const reads = jest.spyOn(ledger.runReads, 'listManifestRows');

    const v2 = await commit(task, 2, { isSeen: () => true, unchangedSeen: PATHS.length });
    const v3 = await commit(task, 3, { isSeen: () => true, unchangedSeen: PATHS.length });

    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(v2).toEqual(v1);
    expect(v3).toEqual(await linesAsBefore(task.id, 3));
  });

  it('should read the records again when another engine changed them since the last manifest', async () => {
    // A cluster: the task's last run was another engine's. Changing one file there keeps the
    // number of current records (one closed, one opened); deleting one keeps the highest id.
    const task = newTask();
    await commit(
      task,
      1,
      { isSeen: () => true, unchangedSeen: 0 },
      PATHS.map((p, i) => file(p, i)),
    );
    const otherEngine = new VersionsService(ledger);
    await commit(
      task,
      2,
      { isSeen: () => true, unchangedSeen: PATHS.length - 1 },
      [file('a.txt', 5000)],
      otherEngine,
    );

    const v3 = await commit(task, 3, { isSeen: () => true, unchangedSeen: PATHS.length });

    expect(v3).toEqual(await linesAsBefore(task.id, 3));
    expect(v3.find((l) => l.startsWith('{"path":"a.txt"'))).toContain('"size":5100');

    await commit(
      task,
      4,
      { isSeen: (p) => p !== 'Zeta', unchangedSeen: PATHS.length - 1 },
      [],
      otherEngine,
    );

    const v5 = await commit(task, 5, { isSeen: () => true, unchangedSeen: PATHS.length - 1 });

    expect(v5).toEqual(await linesAsBefore(task.id, 5));
    expect(v5).toHaveLength(PATHS.length - 1);
  });

  it('should close a current record the run did not see when the unchanged count falls short of the current records', async () => {
    // An unchanged count that does not cover every current record (here one short) must never
    // be taken for "all seen": the unseen record is closed.
    const task = newTask();
    await commit(
      task,
      1,
      { isSeen: () => true, unchangedSeen: 0 },
      ['x', 'y', 'z'].map((p, i) => file(p, i)),
    );

    await commit(task, 2, { isSeen: (p) => p !== 'z', unchangedSeen: 2 });

    const records = await ds.getRepository(VersionFileEntity).findBy({ taskId: task.id });
    expect(
      records
        .filter((r) => r.lastSeq === null)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['x', 'y']);
  });
});
