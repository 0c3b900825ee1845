import { DEFAULT_DELETION_THRESHOLDS } from '../../../src/versions/deletion-guard.js';
import { jest } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from 'typeorm';
import { QuotaExceededError, TransientError } from '../../../src/connectors/connector.errors.js';
import type { Connector } from '../../../src/connectors/connector.js';
import type {
  UploadSessionRecord,
  UploadSessionStore,
} from '../../../src/tasks/upload-sessions.repository.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import type { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import type { VersionEntity } from '../../../src/versions/entities/version.entity.js';
import type { ConnectorProvider } from '../../../src/runs/connector-provider.js';
import { BackupExecutor } from '../../../src/runs/executors/backup.executor.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRunRecorder } from '../../support/fake-run-recorder.js';
import { FaultyConnector, type Fault } from '../../support/faulty-connector.js';
import { sha256, writeTree } from '../../support/files.js';

type Deps = ConstructorParameters<typeof BackupExecutor>;

describe('BackupExecutor', () => {
  let dir: string;
  let source: LocalConnector;
  let target: LocalConnector;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-backup-exec-'));
    source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new LocalConnector({ root: join(dir, 'dst'), fsync: false });
    await mkdir(join(dir, 'src')); // a connector never creates its root
    await mkdir(join(dir, 'dst')); // a connector never creates its root
    await writeTree(join(dir, 'src'), { 'a.txt': 'alpha', 'b/c.txt': 'charlie', 'd.jpg': 'delta' });
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  function setup(
    opts: {
      fault?: Fault;
      live?: Map<string, VersionFileEntity>;
      interrupted?: string[];
      target?: Connector;
      uploads?: UploadSessionStore;
    } = {},
  ) {
    const tgt = opts.target ?? target;
    const src: Connector = opts.fault ? new FaultyConnector(source, opts.fault) : source;
    const tasks: jest.Mocked<Deps[0]> = {
      findById: jest.fn<Deps[0]['findById']>().mockResolvedValue(aTask()),
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
      findCurrentFiles: jest
        .fn<Deps[1]['findCurrentFiles']>()
        .mockResolvedValue(opts.live ?? new Map()),
      recordStoredFiles: jest.fn<Deps[1]['recordStoredFiles']>().mockResolvedValue(undefined),
      hasVersionsOnTarget: jest.fn<Deps[1]['hasVersionsOnTarget']>().mockResolvedValue(false),
      interruptedStorageFolders: jest
        .fn<Deps[1]['interruptedStorageFolders']>()
        .mockResolvedValue(opts.interrupted ?? []),
    };
    const connectors: jest.Mocked<ConnectorProvider> = {
      open: jest
        .fn<ConnectorProvider['open']>()
        .mockImplementation((id) => Promise.resolve(id === 'acc-src' ? src : tgt)),
      noteConnectorFailure: jest.fn<ConnectorProvider['noteConnectorFailure']>(),
      noteConnectorSuccess: jest.fn<ConnectorProvider['noteConnectorSuccess']>(),
    };
    const clock = new FakeClock();
    const sut = new BackupExecutor(
      tasks,
      versions,
      connectors,
      clock,
      { fileAttempts: 3 },
      { uploads: opts.uploads },
    );
    const recorder = new FakeRunRecorder();
    const recorded = () => versions.recordStoredFiles.mock.calls.flatMap((c) => c[2]);
    return { sut, tasks, versions, connectors, clock, recorder, recorded };
  }

  it('should copy every file and complete in the transaction that commits the version', async () => {
    const { sut, versions, recorder, recorded } = setup();

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished).toEqual({ outcome: 'completed', message: null, inTransaction: true });
    expect(recorder.counters).toMatchObject({ filesTotal: 3, filesCopied: 3, bytesCopied: 17 });
    expect(
      recorded()
        .map((f) => f.path)
        .sort(),
    ).toEqual(['a.txt', 'b/c.txt', 'd.jpg']);
    expect(await readFile(join(dir, 'dst', 'backup/v000001/b/c.txt'), 'utf8')).toBe('charlie');
    expect(recorder.versionId).toBe('v1');
    expect(recorder.phases).toEqual(['transferring', 'committing']);
    expect(recorder.inFlight.size).toBe(0);
    expect(versions.abandonVersion).not.toHaveBeenCalled();
  });

  it('should show each file in flight while it copies one by one, and none once the run ended', async () => {
    // A target that copies no batches (a local target copies small local files in batches,
    // which are not shown file by file: see backup-batches.spec.ts).
    const { sut, recorder } = setup({ target: new FaultyConnector(target, () => undefined) });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect([...recorder.started].sort()).toEqual(['a.txt', 'b/c.txt', 'd.jpg']);
    expect(recorder.inFlight.size).toBe(0);
  });

  it('should copy nothing when the ledger holds every file unchanged', async () => {
    const live = new Map<string, VersionFileEntity>();
    for (const [path, body] of [
      ['a.txt', 'alpha'],
      ['b/c.txt', 'charlie'],
      ['d.jpg', 'delta'],
    ]) {
      const entry = await source.stat(path!);
      live.set(path!, {
        path: path!,
        size: body!.length,
        sha256: sha256(Buffer.from(body!)),
        sourceHashes: entry.hashes,
        modifiedAt: entry.modifiedAt ?? null,
      } as VersionFileEntity);
    }
    const { sut, recorder, recorded } = setup({ live });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.counters).toMatchObject({
      filesTotal: 3,
      filesUnchanged: 3,
      filesCopied: 0,
      bytesUnchanged: 'alpha'.length + 'charlie'.length + 'delta'.length,
    });
    expect(recorded()).toEqual([]);
    expect(recorder.finished?.outcome).toBe('completed');
  });

  it('should retry a transient read failure and log it as a retry', async () => {
    let failures = 0;
    const { sut, recorder, clock } = setup({
      fault: (op, path) =>
        op === 'read' && path === 'a.txt' && failures++ === 0
          ? new TransientError('connection reset')
          : undefined,
    });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.counters).toMatchObject({ filesCopied: 3, retries: 1, filesFailed: 0 });
    expect(recorder.linesAt('retry').map((l) => l.message)).toEqual(['copy a.txt (attempt 2)']);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('should skip a file that fails for good, commit the others and end with a warning', async () => {
    const { sut, versions, recorder, recorded } = setup({
      fault: (op, path) =>
        op === 'read' && path === 'd.jpg' ? new TransientError('still broken') : undefined,
    });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.counters).toMatchObject({ filesCopied: 2, filesFailed: 1, retries: 2 });
    expect(recorder.linesAt('error')).toEqual([
      expect.objectContaining({
        path: 'd.jpg',
        message: 'd.jpg: skipped: still broken (still failing after 3 tries)',
      }),
    ]);
    expect(recorded()).toHaveLength(2);
    expect(versions.abandonVersion).not.toHaveBeenCalled();
    expect(versions.commitVersion).toHaveBeenCalledWith(
      expect.anything(),
      expect.anything(),
      expect.anything(),
      expect.anything(),
      expect.any(Function),
      { skipped: 1, guard: DEFAULT_DELETION_THRESHOLDS },
    );
    expect(recorder.finished).toMatchObject({ outcome: 'warning', inTransaction: true });
    expect(recorder.finished!.message).toContain('1 file(s) skipped');
  });

  it('should never drop a file silently when a connector aborts it but the run was not cancelled', async () => {
    // Seen in a loaded peer benchmark: a run ended `completed` with 15 of 20 photos copied. An
    // AbortError that is not the run's own cancellation was taken for "cancelled": the file was
    // left out of the version without a retry, an error or a warning.
    const abort = () =>
      Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    const { sut, recorder, recorded } = setup({
      fault: (op, path) => (op === 'read' && path === 'd.jpg' ? abort() : undefined),
    });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(
      recorded()
        .map((f) => f.path)
        .sort(),
    ).toEqual(['a.txt', 'b/c.txt']);
    expect(recorder.counters).toMatchObject({ filesCopied: 2, filesFailed: 1, retries: 2 });
    expect(recorder.finished).toMatchObject({ outcome: 'warning' });
    expect(recorder.linesAt('error').map((l) => l.path)).toEqual(['d.jpg']);
  });

  it('should remove the temporary files a killed run left in its version folder', async () => {
    const { sut, recorder } = setup({ interrupted: ['backup/v000000_killed'] });
    const leftover = join(
      dir,
      'dst',
      'backup',
      'v000000_killed',
      'b',
      '.c.txt.cbe-partial-0a1b2c3d4e5f',
    );
    await writeTree(join(dir, 'dst'), {
      'backup/v000000_killed/b/.c.txt.cbe-partial-0a1b2c3d4e5f': 'half a file',
      'backup/v000000_killed/a.txt': 'alpha',
    });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    await expect(readFile(leftover)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'dst', 'backup', 'v000000_killed', 'a.txt'), 'utf8')).toBe(
      'alpha',
    );
    expect(recorder.linesAt('info').map((l) => l.message)).toContain(
      'removed 1 temporary file(s) that an interrupted run left behind',
    );
  });

  it('should end offline, writing nothing, when the target drive is gone', async () => {
    const { sut, versions, recorder } = setup();
    await rm(join(dir, 'dst'), { recursive: true });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished).toMatchObject({ outcome: 'offline' });
    expect(recorder.finished!.message).toContain('the target is offline');
    expect(versions.beginVersion).not.toHaveBeenCalled();
    await expect(readdir(dir)).resolves.toEqual(['src']);
  });

  it('should end with a warning saying why when the deletion guard holds the version', async () => {
    const { sut, versions, recorder } = setup();
    versions.commitVersion.mockImplementation(async (_t, _v, _tgt, _gone, also) => {
      const held = {
        verdict: 'hold' as const,
        reason: 'the source listed no files at all',
        deleted: 30,
        changed: 0,
        previousFileCount: 30,
      };
      await also({} as EntityManager, held);
      return held;
    });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished).toMatchObject({ outcome: 'warning', inTransaction: true });
    expect(recorder.finished!.message).toContain('version held for approval: the source listed');
    // The final event carries it, so that the mail can say what the held version would delete.
    expect(recorder.finished!.held).toMatchObject({ deleted: 30, previousFileCount: 30 });
  });

  it.each([
    [true, 2, 1],
    [false, 3, 0],
  ])(
    'should read a hashless target back when the task asks (%s): a copy stored wrong is a file error, not a good file',
    async (readBackAfterWrite, copied, failed) => {
      // The drive flips bytes of d.jpg as it stores it and, like any plain folder, reports no hash.
      const corrupting = new FaultyConnector(target, (op, path) =>
        op === 'write' && path.endsWith('d.jpg') ? 'corrupt' : undefined,
      );
      const hashless: Connector = Object.assign(Object.create(corrupting) as Connector, {
        write: async (...args: Parameters<Connector['write']>) => ({
          ...(await corrupting.write(...args)),
          hashes: {},
        }),
      });
      const { sut, tasks, recorder, recorded } = setup({ target: hashless });
      tasks.findById.mockResolvedValue(aTask({ readBackAfterWrite }));

      await sut.execute(aRun(), recorder, new AbortController().signal);

      expect(recorder.counters).toMatchObject({ filesCopied: copied, filesFailed: failed });
      expect(recorded().some((f) => f.path === 'd.jpg')).toBe(!readBackAfterWrite);
      if (readBackAfterWrite) expect(recorder.linesAt('error')[0]!.message).toContain('read back');
    },
  );

  it('should stop the whole run when the target is full', async () => {
    const full = new QuotaExceededError('the target is full');
    const { sut, connectors, recorder } = setup();
    const tgt = new FaultyConnector(target, (op) => (op === 'write' ? full : undefined));
    connectors.open.mockImplementation((id) => Promise.resolve(id === 'acc-src' ? source : tgt));

    await expect(sut.execute(aRun(), recorder, new AbortController().signal)).rejects.toBe(full);

    expect(recorder.counters.filesFailed).toBe(0);
    expect(connectors.noteConnectorFailure).toHaveBeenCalledWith('acc-tgt', full);
  });

  it('should refuse a target that cannot be written to before creating a version', async () => {
    const { sut, versions, connectors, recorder } = setup();
    const readOnly = new FaultyConnector(target, () => undefined, {
      writable: false,
      readOnlyReason: 'photos cannot be uploaded',
    });
    connectors.open.mockImplementation((id) =>
      Promise.resolve(id === 'acc-src' ? source : readOnly),
    );

    await expect(sut.execute(aRun(), recorder, new AbortController().signal)).rejects.toThrow(
      'cannot be written to: photos cannot be uploaded',
    );
    expect(versions.beginVersion).not.toHaveBeenCalled();
  });

  it('should stop copying and throw when the run is cancelled', async () => {
    const controller = new AbortController();
    const { sut, recorder, versions } = setup({
      fault: (op) => {
        if (op === 'read') controller.abort(new Error('cancelled by the user'));
        return undefined;
      },
    });

    await expect(sut.execute(aRun(), recorder, controller.signal)).rejects.toThrow(
      'cancelled by the user',
    );
    expect(recorder.counters.filesFailed).toBe(0);
    expect(versions.commitVersion).not.toHaveBeenCalled();
  });

  it('should fail when the task was deleted before the run started', async () => {
    const { sut, tasks, recorder } = setup();
    tasks.findById.mockResolvedValue(null);

    await expect(sut.execute(aRun(), recorder, new AbortController().signal)).rejects.toThrow(
      'task task-1 was deleted before the run started',
    );
  });

  it("should continue an earlier attempt's upload session at its path, record new ones and forget them once stored", async () => {
    const writes: Array<{ path: string; resume?: string }> = [];
    // A target whose uploads above 4 bytes go through sessions: it reports one per file.
    const sessions: Connector = {
      kind: target.kind,
      capabilities: { ...target.capabilities, uploadChunkSize: 4 },
      list: (d, o) => target.list(d, o),
      stat: (p) => target.stat(p),
      read: (p, o) => target.read(p, o),
      mkdir: (p, o) => target.mkdir(p, o),
      remove: (p) => target.remove(p),
      write: (p, body, meta) => {
        writes.push({ path: p, resume: meta?.session?.resume });
        meta?.session?.onConfirmed(meta.session.resume ?? `loc:${p}`, meta.session.resume ? 3 : 0);
        return target.write(p, body, meta);
      },
    };
    const earlier = (sourcePath: string, over: Partial<UploadSessionRecord> = {}) => ({
      taskId: aTask().id,
      sourcePath,
      targetAccountId: aTask().targetAccountId,
      targetPath: `backup/v000000/${sourcePath}`,
      size: 5,
      sourceModifiedAt: null,
      locator: `loc-old:${sourcePath}`,
      confirmedBytes: 3,
      ...over,
    });
    const uploads: jest.Mocked<UploadSessionStore> = {
      listForTask: jest
        .fn<UploadSessionStore['listForTask']>()
        .mockResolvedValue([
          earlier('a.txt', { sourceModifiedAt: (await source.stat('a.txt')).modifiedAt ?? null }),
          earlier('gone.txt'),
        ]),
      open: jest.fn<UploadSessionStore['open']>().mockResolvedValue(undefined),
      confirm: jest.fn<UploadSessionStore['confirm']>().mockResolvedValue(undefined),
      remove: jest.fn<UploadSessionStore['remove']>().mockResolvedValue(undefined),
    };
    const { sut, recorder, recorded } = setup({ target: sessions, uploads });

    await sut.execute(aRun(), recorder, new AbortController().signal);

    expect(recorder.finished?.outcome).toBe('completed');
    expect(writes.sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'backup/v000000/a.txt', resume: 'loc-old:a.txt' },
      { path: 'backup/v000001/b/c.txt', resume: undefined },
      { path: 'backup/v000001/d.jpg', resume: undefined },
    ]);
    expect(recorded().find((f) => f.path === 'a.txt')?.storedPath).toBe('backup/v000000/a.txt');
    expect(uploads.open.mock.calls.map((c) => [c[0].sourcePath, c[0].locator]).sort()).toEqual([
      ['b/c.txt', 'loc:backup/v000001/b/c.txt'],
      ['d.jpg', 'loc:backup/v000001/d.jpg'],
    ]);
    expect(uploads.remove.mock.calls.map((c) => c[1]).sort()).toEqual([
      'a.txt',
      'b/c.txt',
      'd.jpg',
      'gone.txt',
    ]);
    expect(recorder.lines.map((e) => e.message)).toContain(
      'a.txt: continuing the upload an interrupted attempt left, at byte 3 of 5',
    );
  });
});
