/**
 * Issue #21: a backup to a local folder makes its files durable without an fsync per file, and
 * still never records (for reuse by a later run) nor commits a file whose bytes are not durable.
 *
 * fsync(2) is counted by wrapping `sync` on the FileHandle prototype (what the local connector
 * calls) and syncfs(2) through the connector's SyncCalls seam; the order of barriers, ledger
 * writes and the commit is logged by the fakes.
 */
import { jest } from '@jest/globals';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from 'typeorm';
import type { Connector } from '../../../src/connectors/connector.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import { nodeSyncCalls, type SyncCalls } from '../../../src/connectors/local/local.durability.js';
import type { ConnectorProvider } from '../../../src/runs/connector-provider.js';
import { BackupExecutor } from '../../../src/runs/executors/backup.executor.js';
import type { VersionEntity } from '../../../src/versions/entities/version.entity.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRunRecorder } from '../../support/fake-run-recorder.js';
import { writeTree } from '../../support/files.js';

type Deps = ConstructorParameters<typeof BackupExecutor>;

const FILES = 120;

const probe = await open('/dev/null', 'r');
const fileHandleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
await probe.close();
const originalSync = fileHandleProto.sync;

describe('backup durability without an fsync per file (issue #21)', () => {
  let dir: string;
  let fsyncs = 0;
  const log: string[] = [];

  beforeAll(() => {
    fileHandleProto.sync = function (this: unknown) {
      fsyncs++;
      return originalSync.call(this);
    };
  });
  afterAll(() => {
    fileHandleProto.sync = originalSync;
  });

  beforeEach(async () => {
    fsyncs = 0;
    log.length = 0;
    dir = await mkdtemp(join(tmpdir(), 'cbe-durable-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'dst'));
    const tree: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) tree[`d${i % 4}/f${i}.txt`] = `file ${i}`;
    await writeTree(join(dir, 'src'), tree);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** The real system calls, logged and counted. */
  function countingSyncCalls(opts: { syncfsWorks?: boolean } = {}): SyncCalls {
    return {
      async syncFileSystems(folders) {
        if (opts.syncfsWorks === false) return false;
        log.push('syncfs');
        return nodeSyncCalls.syncFileSystems(folders);
      },
      fsync: (path) => nodeSyncCalls.fsync(path),
    };
  }

  function setup(target: Connector) {
    const source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    const versions: jest.Mocked<Deps[1]> = {
      beginVersion: jest
        .fn<Deps[1]['beginVersion']>()
        .mockResolvedValue({ id: 'v1', seq: 1, storageFolder: 'backup/v000001' } as VersionEntity),
      commitVersion: jest
        .fn<Deps[1]['commitVersion']>()
        .mockImplementation(async (_t, _v, _tgt, _gone, also) => {
          log.push('commit');
          await also({} as EntityManager, { verdict: 'ok' });
          return { verdict: 'ok' };
        }),
      abandonVersion: jest.fn<Deps[1]['abandonVersion']>().mockResolvedValue(undefined),
      findCurrentFiles: jest.fn<Deps[1]['findCurrentFiles']>().mockResolvedValue(new Map()),
      recordStoredFiles: jest
        .fn<Deps[1]['recordStoredFiles']>()
        .mockImplementation(async (_task, _seq, files) => {
          log.push(`record ${files.length}`);
        }),
      hasVersionsOnTarget: jest.fn<Deps[1]['hasVersionsOnTarget']>().mockResolvedValue(false),
      interruptedStorageFolders: jest
        .fn<Deps[1]['interruptedStorageFolders']>()
        .mockResolvedValue([]),
    };
    const connectors: jest.Mocked<ConnectorProvider> = {
      open: jest
        .fn<ConnectorProvider['open']>()
        .mockImplementation((id) => Promise.resolve(id === 'acc-src' ? source : target)),
      noteConnectorFailure: jest.fn<ConnectorProvider['noteConnectorFailure']>(),
      noteConnectorSuccess: jest.fn<ConnectorProvider['noteConnectorSuccess']>(),
    };
    const tasks: jest.Mocked<Deps[0]> = {
      findById: jest.fn<Deps[0]['findById']>().mockResolvedValue(aTask()),
      saveChangeCursor: jest.fn<Deps[0]['saveChangeCursor']>().mockResolvedValue(undefined),
    };
    const sut = new BackupExecutor(tasks, versions, connectors, new FakeClock(), {
      fileAttempts: 3,
    });
    return { sut, versions, recorder: new FakeRunRecorder() };
  }

  it('should make a run of small files durable with fewer fsyncs than files, a barrier before every ledger write and the commit', async () => {
    const target = new LocalConnector(
      { root: join(dir, 'dst'), fsync: true },
      undefined,
      countingSyncCalls(),
    );
    const { sut, recorder } = setup(target);

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('completed');
    expect(recorder.counters.filesCopied).toBe(FILES);
    // Before: one fsync per file (120) and no barrier.
    expect(fsyncs).toBeLessThan(FILES);
    expect(fsyncs).toBe(0);
    // Every batch of records follows a barrier that covers it, and the commit follows them all.
    expect(log.at(-1)).toBe('commit');
    const records = log.filter((l) => l.startsWith('record'));
    expect(records.reduce((n, l) => n + Number(l.split(' ')[1]), 0)).toBe(FILES);
    log.forEach((l, i) => {
      if (l.startsWith('record')) expect(log[i - 1]).toBe('syncfs');
    });
  });

  it('should fall back to an fsync of each file and folder when syncfs cannot be done', async () => {
    const target = new LocalConnector(
      { root: join(dir, 'dst'), fsync: true },
      undefined,
      countingSyncCalls({ syncfsWorks: false }),
    );
    const { sut, recorder } = setup(target);

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.counters.filesCopied).toBe(FILES);
    // Each file once, and its 4 folders (d0..d3) once per barrier at most.
    expect(fsyncs).toBeGreaterThanOrEqual(FILES + 4);
    expect(log.at(-1)).toBe('commit');
  });

  it('should record nothing while the barrier has not covered the files, and fail the run when it fails', async () => {
    const failing: SyncCalls = {
      syncFileSystems: () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })),
      fsync: () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })),
    };
    const target = new LocalConnector({ root: join(dir, 'dst'), fsync: true }, undefined, failing);
    const { sut, versions, recorder } = setup(target);

    await expect(sut.execute(aRun(), recorder, new AbortController().signal)).rejects.toThrow();

    expect(versions.recordStoredFiles).not.toHaveBeenCalled();
    expect(versions.commitVersion).not.toHaveBeenCalled();
  });

  it('should fsync each file at once for a writer that does not defer (restore, manifests)', async () => {
    const target = new LocalConnector(
      { root: join(dir, 'dst'), fsync: true },
      undefined,
      countingSyncCalls(),
    );
    const { Readable } = await import('node:stream');
    for (let i = 0; i < 5; i++) await target.write(`m/f${i}`, Readable.from([Buffer.from('x')]));
    expect(fsyncs).toBe(5);
    await target.flushWrites();
    expect(log).toEqual([]); // nothing deferred, nothing to flush
  });
});
