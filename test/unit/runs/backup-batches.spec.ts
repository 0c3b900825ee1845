/**
 * Issue #21: a backup hands the small files of each plan batch to a target that copies them in
 * batches (BatchCopier), and handles every result as the single path handles its outcome: a
 * record per stored file, a vanished file as a warning, any other failure through the single
 * path with its retries and error classification.
 *
 * The fake pair: a local source, and a local target that also copies batches (reading the source
 * and writing each file as `write(..., { deferSync: true })` does), with faults per item.
 */
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import {
  NotFoundError,
  QuotaExceededError,
  TransientError,
} from '../../../src/connectors/connector.errors.js';
import {
  BATCH_COPY_MAX_BYTES,
  type BatchCopier,
  type BatchCopyItem,
  type BatchCopyResult,
  type CallOptions,
  type Connector,
  type Entry,
  type WriteMeta,
} from '../../../src/connectors/connector.js';
import type { HashSet } from '../../../src/connectors/hashing/hash-kinds.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import type { ConnectorProvider } from '../../../src/runs/connector-provider.js';
import { BackupExecutor } from '../../../src/runs/executors/backup.executor.js';
import type { VersionEntity } from '../../../src/versions/entities/version.entity.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRunRecorder } from '../../support/fake-run-recorder.js';
import { FaultyConnector, type Fault } from '../../support/faulty-connector.js';
import { patternBytes, writeTree } from '../../support/files.js';

type Deps = ConstructorParameters<typeof BackupExecutor>;

/** What the fake copier does with one item instead of copying it. */
type ItemFault = (item: BatchCopyItem) => BatchCopyResult | 'copy' | undefined;

/**
 * A local target whose batch copies are the test's: from one given source only, each item read
 * and written through the connector's own read and write, with faults per item; it counts what
 * goes which way.
 */
class BatchingTarget extends LocalConnector implements BatchCopier {
  readonly copied: BatchCopyItem[][] = [];
  readonly singleWrites: string[] = [];
  /** The engine's default limit unless a test raises it (the local connector's own is larger). */
  override batchCopyMaxBytes: number = BATCH_COPY_MAX_BYTES;
  itemFault: ItemFault = () => undefined;
  /** Runs inside copyBatch before any item is copied (to cancel or pause mid-batch). */
  onBatch: (items: readonly BatchCopyItem[]) => Promise<void> | void = () => undefined;

  constructor(
    root: string,
    private readonly from: () => Connector,
  ) {
    super({ root, fsync: false });
  }

  override canCopyBatchFrom(source: Connector): boolean {
    return source === this.from();
  }

  override async copyBatch(
    source: Connector,
    items: readonly BatchCopyItem[],
    opts: CallOptions = {},
  ): Promise<BatchCopyResult[]> {
    this.copied.push([...items]);
    await this.onBatch(items);
    const out: BatchCopyResult[] = [];
    for (const item of items) {
      opts.signal?.throwIfAborted();
      const fault = this.itemFault(item);
      if (fault !== undefined && fault !== 'copy') {
        out.push(fault);
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readAll(await source.read(item.sourcePath));
      } catch (e) {
        out.push({ ok: false, side: 'source', error: e as Error });
        continue;
      }
      try {
        await super.write(item.targetPath, Readable.from([bytes]), { deferSync: true });
        out.push({
          ok: true,
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      } catch (e) {
        out.push({ ok: false, side: 'target', error: e as Error });
      }
    }
    return out;
  }

  override write(path: string, body: Readable, meta?: WriteMeta): Promise<Entry> {
    this.singleWrites.push(path);
    return super.write(path, body, meta);
  }
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('BackupExecutor with a target that copies batches', () => {
  let dir: string;
  let source: Connector;
  let target: BatchingTarget;
  const files: Record<string, Buffer> = {};

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-batch-exec-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'dst'));
    for (const k of Object.keys(files)) delete files[k];
    for (let i = 0; i < 10; i++) files[`d${i % 3}/f${i}.txt`] = patternBytes(100 + i, i + 1);
    await writeTree(join(dir, 'src'), files);
    source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new BatchingTarget(join(dir, 'dst'), () => source);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  function setup(
    opts: {
      sourceFault?: Fault;
      sourceHashes?: (path: string) => HashSet | undefined;
      readBack?: boolean;
      concurrency?: number;
    } = {},
  ) {
    if (opts.sourceFault || opts.sourceHashes)
      source = new FaultyConnector(
        source,
        opts.sourceFault ?? (() => undefined),
        undefined,
        opts.sourceHashes,
      );
    const src = source;
    const tasks: jest.Mocked<Deps[0]> = {
      findById: jest.fn<Deps[0]['findById']>().mockResolvedValue(
        aTask({
          readBackAfterWrite: opts.readBack ?? false,
          concurrency: opts.concurrency ?? 2,
        }),
      ),
      saveChangeCursor: jest.fn<Deps[0]['saveChangeCursor']>().mockResolvedValue(undefined),
    };
    const versions: jest.Mocked<Deps[1]> = {
      beginVersion: jest
        .fn<Deps[1]['beginVersion']>()
        .mockResolvedValue({ id: 'v1', seq: 1, storageFolder: 'backup/v000001' } as VersionEntity),
      commitVersion: jest
        .fn<Deps[1]['commitVersion']>()
        .mockImplementation(async (_t, _v, _tgt, _gone, also) => {
          await also({} as EntityManager, { verdict: 'ok' });
          return { verdict: 'ok' };
        }),
      abandonVersion: jest.fn<Deps[1]['abandonVersion']>().mockResolvedValue(undefined),
      findCurrentFiles: jest.fn<Deps[1]['findCurrentFiles']>().mockResolvedValue(new Map()),
      recordStoredFiles: jest.fn<Deps[1]['recordStoredFiles']>().mockResolvedValue(undefined),
      hasVersionsOnTarget: jest.fn<Deps[1]['hasVersionsOnTarget']>().mockResolvedValue(false),
      interruptedStorageFolders: jest
        .fn<Deps[1]['interruptedStorageFolders']>()
        .mockResolvedValue([]),
    };
    const connectors: jest.Mocked<ConnectorProvider> = {
      open: jest
        .fn<ConnectorProvider['open']>()
        .mockImplementation((id) => Promise.resolve(id === 'acc-src' ? src : target)),
      noteConnectorFailure: jest.fn<ConnectorProvider['noteConnectorFailure']>(),
      noteConnectorSuccess: jest.fn<ConnectorProvider['noteConnectorSuccess']>(),
    };
    const clock = new FakeClock();
    const sut = new BackupExecutor(tasks, versions, connectors, clock, { fileAttempts: 3 });
    const recorder = new FakeRunRecorder();
    const recorded = () => versions.recordStoredFiles.mock.calls.flatMap((c) => c[2]);
    const batched = () => target.copied.flat().map((i) => i.sourcePath);
    return { sut, versions, connectors, clock, recorder, recorded, batched };
  }

  const allPaths = () => Object.keys(files).sort();
  const totalBytes = () => Object.values(files).reduce((n, b) => n + b.length, 0);

  it('should copy the small files in batches and record each with its hash and stored path', async () => {
    const { sut, recorder, recorded, batched } = setup();

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished).toMatchObject({ outcome: 'completed', inTransaction: true });
    expect(batched().sort()).toEqual(allPaths());
    expect(target.singleWrites).toEqual([]);
    expect(target.copied[0]![0]).toMatchObject({
      targetPath: expect.stringMatching(/^backup\/v000001\/d\d\/f\d\.txt$/),
      expectedSize: expect.any(Number),
    });
    const recs = recorded().sort((a, b) => a.path.localeCompare(b.path));
    expect(recs.map((r) => r.path)).toEqual(allPaths());
    for (const r of recs) {
      expect(r).toMatchObject({
        size: files[r.path]!.length,
        sha256: sha(files[r.path]!),
        storedPath: `backup/v000001/${r.path}`,
        sourceId: null,
      });
      expect(await readFile(join(dir, 'dst', r.storedPath))).toEqual(files[r.path]);
    }
    expect(recorder.counters).toMatchObject({
      filesTotal: 10,
      filesCopied: 10,
      filesFailed: 0,
      bytesTotal: totalBytes(),
      bytesCopied: totalBytes(),
    });
    expect(recorder.phases).toEqual(['transferring', 'committing']);
    // Batched files are not listed in flight one by one (see BackupExecution.batchHost).
    expect(recorder.started).toEqual([]);
    expect(recorder.inFlight.size).toBe(0);
  });

  it('should not batch when the target cannot copy from this source, nor when the task reads back', async () => {
    const other = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new BatchingTarget(join(dir, 'dst'), () => other);
    const a = setup();
    await a.sut.execute(aRun(), a.recorder, new AbortController().signal);
    expect(target.copied).toEqual([]);
    expect(a.recorder.counters.filesCopied).toBe(10);
    expect(target.singleWrites).toHaveLength(10);

    await rm(join(dir, 'dst'), { recursive: true });
    await mkdir(join(dir, 'dst'));
    target = new BatchingTarget(join(dir, 'dst'), () => source);
    const b = setup({ readBack: true });
    await b.sut.execute(aRun(), b.recorder, new AbortController().signal);
    expect(target.copied).toEqual([]);
    expect(b.recorder.counters.filesCopied).toBe(10);
  });

  it('should send larger files, and files whose source reports hashes, through the single path', async () => {
    const big = patternBytes(BATCH_COPY_MAX_BYTES + 1, 99);
    const edge = patternBytes(BATCH_COPY_MAX_BYTES, 98);
    await writeTree(join(dir, 'src'), { 'big.bin': big, 'edge.bin': edge });
    files['big.bin'] = big;
    files['edge.bin'] = edge;
    // The source reports a SHA-1 for one file: the batch result has only a SHA-256 to check.
    const s = setup({
      sourceHashes: (p) =>
        p === 'd1/f1.txt'
          ? { sha1: createHash('sha1').update(files[p]!).digest('hex') }
          : undefined,
    });

    await s.sut.execute(aRun(), s.recorder, new AbortController().signal);

    expect(s.batched().sort()).toEqual(
      allPaths().filter((p) => p !== 'big.bin' && p !== 'd1/f1.txt'),
    );
    expect(target.singleWrites.sort()).toEqual([
      'backup/v000001/big.bin',
      'backup/v000001/d1/f1.txt',
    ]);
    expect(
      s
        .recorded()
        .map((r) => r.path)
        .sort(),
    ).toEqual(allPaths());
    expect(s.recorded().find((r) => r.path === 'd1/f1.txt')?.sourceHashes).toEqual({
      sha1: expect.any(String),
    });
    expect(s.recorder.counters).toMatchObject({ filesCopied: 12, bytesCopied: totalBytes() });
    expect(await readFile(join(dir, 'dst', 'backup/v000001/big.bin'))).toEqual(big);
  });

  it("should batch files up to the copier's own limit when it sets one", async () => {
    const big = patternBytes(3 * BATCH_COPY_MAX_BYTES, 97);
    const over = patternBytes(4 * BATCH_COPY_MAX_BYTES + 1, 96);
    await writeTree(join(dir, 'src'), { 'big.bin': big, 'over.bin': over });
    files['big.bin'] = big;
    files['over.bin'] = over;
    target.batchCopyMaxBytes = 4 * BATCH_COPY_MAX_BYTES;
    const s = setup();

    await s.sut.execute(aRun(), s.recorder, new AbortController().signal);

    expect(s.batched().sort()).toEqual(allPaths().filter((p) => p !== 'over.bin'));
    expect(target.singleWrites).toEqual(['backup/v000001/over.bin']);
    expect(s.recorded().find((r) => r.path === 'big.bin')?.sha256).toBe(sha(big));
    expect(s.recorder.counters).toMatchObject({ filesCopied: 12, bytesCopied: totalBytes() });
    expect(await readFile(join(dir, 'dst', 'backup/v000001/big.bin'))).toEqual(big);
  });

  it('should leave a file deleted at the source out of the version with a warning', async () => {
    const { sut, recorder, recorded } = setup();
    target.itemFault = (i) =>
      i.sourcePath === 'd2/f5.txt'
        ? { ok: false, side: 'source', error: new NotFoundError('d2/f5.txt: gone') }
        : undefined;

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('completed');
    expect(recorded().map((r) => r.path)).not.toContain('d2/f5.txt');
    expect(recorded()).toHaveLength(9);
    expect(recorder.linesAt('warning').map((l) => l.message)).toEqual([
      'd2/f5.txt: deleted at the source during the run; not in this version',
    ]);
    expect(recorder.counters).toMatchObject({
      filesTotal: 9,
      filesCopied: 9,
      bytesTotal: totalBytes() - files['d2/f5.txt']!.length,
      bytesCopied: totalBytes() - files['d2/f5.txt']!.length,
    });
    expect(target.singleWrites).toEqual([]);
  });

  it('should copy a file the batch failed through the single path, with its retries', async () => {
    const { sut, recorder, recorded } = setup();
    target.itemFault = (i) =>
      i.sourcePath === 'd0/f3.txt'
        ? { ok: false, side: 'target', error: new TransientError('EIO on write') }
        : undefined;

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('completed');
    expect(target.singleWrites).toEqual(['backup/v000001/d0/f3.txt']);
    expect(recorded().filter((r) => r.path === 'd0/f3.txt')).toEqual([
      expect.objectContaining({
        sha256: sha(files['d0/f3.txt']!),
        size: files['d0/f3.txt']!.length,
      }),
    ]);
    expect(recorded()).toHaveLength(10);
    expect(recorder.counters).toMatchObject({
      filesCopied: 10,
      filesFailed: 0,
      retries: 1,
      bytesCopied: totalBytes(),
    });
  });

  it('should skip a file that fails in the batch and again through the single path, and end with a warning', async () => {
    // Unreadable every time: in the batch, then on each try of the single path.
    const s = setup({
      sourceFault: (op, p) =>
        op === 'read' && p === 'd0/f3.txt' ? new TransientError('bad sector') : undefined,
    });

    await s.sut.execute(aRun(), s.recorder, new AbortController().signal);

    expect(s.recorder.finished?.outcome).toBe('warning');
    // The batch's try, then the single path's three.
    expect(s.recorder.counters).toMatchObject({ filesCopied: 9, filesFailed: 1, retries: 3 });
    expect(s.recorder.linesAt('retry').map((l) => l.message)).toEqual([
      'copy d0/f3.txt (in a batch; again on its own)',
      'copy d0/f3.txt (attempt 2)',
      'copy d0/f3.txt (attempt 3)',
    ]);
    expect(s.recorder.linesAt('error').map((l) => l.path)).toEqual(['d0/f3.txt']);
    expect(s.recorded()).toHaveLength(9);
  });

  it('should take a result of another size than listed for a failure, and copy the file again', async () => {
    const { sut, recorder, recorded } = setup();
    target.itemFault = (i) =>
      i.sourcePath === 'd1/f4.txt' ? { ok: true, size: 3, sha256: sha('abc') } : undefined;

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(target.singleWrites).toEqual(['backup/v000001/d1/f4.txt']);
    expect(recorded().find((r) => r.path === 'd1/f4.txt')).toMatchObject({
      size: files['d1/f4.txt']!.length,
      sha256: sha(files['d1/f4.txt']!),
    });
    expect(recorder.counters.bytesCopied).toBe(totalBytes());
  });

  it('should copy every file of a batch that failed as a whole through the single path', async () => {
    const { sut, recorder, recorded } = setup();
    target.onBatch = () => {
      throw new Error('the copier crashed');
    };

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('completed');
    expect(target.singleWrites).toHaveLength(10);
    expect(
      recorded()
        .map((r) => r.path)
        .sort(),
    ).toEqual(allPaths());
  });

  it('should stop the whole run when the target is full', async () => {
    const full = new QuotaExceededError('the target is full');
    const { sut, versions, connectors, recorder } = setup();
    target.itemFault = () => ({ ok: false, side: 'target', error: full });
    const write = jest.spyOn(target, 'write').mockRejectedValue(full);

    await expect(sut.execute(aRun(), recorder, new AbortController().signal)).rejects.toBe(full);

    expect(write).toHaveBeenCalled();
    expect(recorder.counters.filesFailed).toBe(0);
    expect(versions.commitVersion).not.toHaveBeenCalled();
    expect(versions.recordStoredFiles).not.toHaveBeenCalled();
    expect(connectors.noteConnectorFailure).toHaveBeenCalledWith('acc-tgt', full);
  });

  it('should leave the version partial and record nothing of a batch cancelled in the middle', async () => {
    const controller = new AbortController();
    const { sut, versions, recorder } = setup();
    target.onBatch = () => controller.abort(new Error('cancelled by the user'));

    await expect(sut.execute(aRun(), recorder, controller.signal)).rejects.toThrow(
      'cancelled by the user',
    );

    expect(versions.recordStoredFiles).not.toHaveBeenCalled();
    expect(versions.commitVersion).not.toHaveBeenCalled();
    // Files of the batch may be on the target: its folder stays known as an interrupted run's.
    expect(versions.abandonVersion).toHaveBeenCalledWith('v1', true);
    expect(recorder.counters.filesFailed).toBe(0);
    expect(target.singleWrites).toEqual([]);
  });

  it('should end the run offline when the target folder is deleted between batches', async () => {
    const many: Record<string, Buffer> = {};
    for (let i = 0; i < 340; i++) many[`n/h${i}.txt`] = patternBytes(20, i + 2000);
    await writeTree(join(dir, 'src'), many);
    // One group at a time: no write of another group in flight makes the folder again (a local
    // folder has no id to tell a folder made again from the one watched).
    const { sut, versions, clock, recorder } = setup({ concurrency: 1 });
    let calls = 0;
    let deleted = false;
    target.onBatch = async () => {
      if (++calls !== 3) return;
      deleted = true;
      // Someone deletes the task's folder; the next check is due (every 30 s).
      await rm(join(dir, 'dst', 'backup'), { recursive: true });
      await clock.sleep(31_000);
    };
    target.itemFault = () =>
      deleted ? { ok: false, side: 'target', error: new TransientError('EIO') } : undefined;

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('offline');
    expect(recorder.finished?.message).toContain('the target is offline');
    expect(versions.commitVersion).not.toHaveBeenCalled();
  });

  it('should wait while the run is paused before a batch starts', async () => {
    const { sut, recorder } = setup();
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let pauses = 0;
    recorder.checkpoint = (() => {
      pauses++;
      return pauses === 1 ? paused : undefined;
    }) as FakeRunRecorder['checkpoint'];

    const run = sut.execute(aRun(), recorder, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(target.copied).toEqual([]);
    resume();
    await run;

    expect(target.copied.length).toBeGreaterThan(0);
    expect(recorder.finished?.outcome).toBe('completed');
  });

  it('should keep a group queued behind each one copying: up to 4 in flight, never more than the task concurrency', async () => {
    const many: Record<string, Buffer> = {};
    for (let i = 0; i < 1000; i++) many[`q${i % 5}/h${i}.txt`] = patternBytes(20, i + 3000);
    await writeTree(join(dir, 'src'), many);
    Object.assign(files, many);
    const mostInFlight = async (concurrency: number): Promise<number> => {
      let running = 0;
      let most = 0;
      target.onBatch = async () => {
        running++;
        most = Math.max(most, running);
        // A worker thread busy with the group: the others go on being sent meanwhile.
        await new Promise((r) => setTimeout(r, 20));
        running--;
      };
      const { sut, recorder } = setup({ concurrency });
      await sut.execute(aRun(), recorder, new AbortController().signal);
      expect(recorder.finished?.outcome).toBe('completed');
      return most;
    };

    expect(await mostInFlight(4)).toBe(4);
    expect(await mostInFlight(8)).toBe(4);
    expect(await mostInFlight(2)).toBe(2);
  });

  it('should record each stored file exactly once over many plan batches, with the pool and batches side by side', async () => {
    const many: Record<string, Buffer> = {};
    for (let i = 0; i < 700; i++)
      many[`m${i % 7}/g${i}.txt`] = patternBytes(10 + (i % 50), i + 1000);
    many['large/one.bin'] = patternBytes(BATCH_COPY_MAX_BYTES * 2, 5);
    await writeTree(join(dir, 'src'), many);
    Object.assign(files, many);
    const { sut, recorder, recorded } = setup({ concurrency: 4 });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    const paths = recorded().map((r) => r.path);
    expect(paths).toHaveLength(new Set(paths).size);
    expect(paths.sort()).toEqual(allPaths());
    expect(recorder.counters).toMatchObject({
      filesTotal: 711,
      filesCopied: 711,
      bytesTotal: totalBytes(),
      bytesCopied: totalBytes(),
    });
    expect(target.singleWrites).toEqual(['backup/v000001/large/one.bin']);
    // More than one batch, none larger than the limit of files it may hold.
    expect(target.copied.length).toBeGreaterThan(1);
  });
});
