import { jest } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestoreParams } from '../../../src/tasks/entities/run.entity.js';
import type { Connector } from '../../../src/connectors/connector.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import { FaultyConnector } from '../../support/faulty-connector.js';
import type { ConnectorProvider } from '../../../src/runs/connector-provider.js';
import { RestoreExecutor } from '../../../src/runs/executors/restore.executor.js';
import { FilesFailedError } from '../../../src/runs/run-outcome.js';
import type { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import type { VersionEntity } from '../../../src/versions/entities/version.entity.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRunRecorder } from '../../support/fake-run-recorder.js';
import { sha256, writeTree } from '../../support/files.js';

type Deps = ConstructorParameters<typeof RestoreExecutor>;

const STORED = { 'v1/a.txt': 'alpha', 'v1/b/c.txt': 'charlie' };

function record(path: string, body: string, patch: Partial<VersionFileEntity> = {}) {
  return {
    id: path.length,
    path,
    size: body.length,
    sha256: sha256(body),
    sourceHashes: {},
    modifiedAt: null,
    storedPath: `v1/${path}`,
    ...patch,
  } as VersionFileEntity;
}

describe('RestoreExecutor', () => {
  let dir: string;
  let backup: LocalConnector;
  let dest: LocalConnector;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-restore-exec-'));
    backup = new LocalConnector({ root: join(dir, 'backup'), fsync: false });
    dest = new LocalConnector({ root: join(dir, 'dest'), fsync: false });
    await mkdir(join(dir, 'backup')); // a connector never creates its root
    await mkdir(join(dir, 'dest')); // a connector never creates its root
    await writeTree(join(dir, 'backup'), STORED);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  function setup(
    files: VersionFileEntity[],
    status: VersionEntity['status'] = 'complete',
    stored: Connector = backup,
  ) {
    const tasks: jest.Mocked<Deps[0]> = {
      findById: jest.fn<Deps[0]['findById']>().mockResolvedValue(aTask()),
    };
    const versions: jest.Mocked<Deps[1]> = {
      getVersion: jest
        .fn<Deps[1]['getVersion']>()
        .mockResolvedValue({ id: 'v1', seq: 1, status } as VersionEntity),
      findFile: jest.fn<Deps[1]['findFile']>().mockResolvedValue(null),
      listFiles: jest.fn<Deps[1]['listFiles']>().mockResolvedValue({ files }),
    };
    const connectors: jest.Mocked<ConnectorProvider> = {
      open: jest
        .fn<ConnectorProvider['open']>()
        .mockImplementation((id) => Promise.resolve(id === 'acc-tgt' ? stored : dest)),
      noteConnectorFailure: jest.fn<ConnectorProvider['noteConnectorFailure']>(),
      noteConnectorSuccess: jest.fn<ConnectorProvider['noteConnectorSuccess']>(),
    };
    const sut = new RestoreExecutor(tasks, versions, connectors, new FakeClock(), {
      fileAttempts: 2,
    });
    return { sut, recorder: new FakeRunRecorder() };
  }

  function restoreRun(patch: Partial<RestoreParams> = {}) {
    const params: RestoreParams = {
      versionId: 'v1',
      paths: [],
      destination: { accountId: 'acc-dest', path: 'restored' },
      conflict: 'skip-identical',
      ...patch,
    };
    return aRun({ kind: 'restore', params, versionId: 'v1' });
  }

  it('should restore every file of the version into the destination folder', async () => {
    const { sut, recorder } = setup([record('a.txt', 'alpha'), record('b/c.txt', 'charlie')]);

    await sut.execute(restoreRun(), recorder, new AbortController().signal);

    expect(recorder.counters).toMatchObject({ filesTotal: 2, filesCopied: 2, bytesCopied: 12 });
    expect(await readFile(join(dir, 'dest', 'restored/b/c.txt'), 'utf8')).toBe('charlie');
    expect(recorder.phases).toEqual(['transferring']);
    expect(recorder.finished).toBeUndefined(); // the dispatcher completes it
    // Each file was shown in flight while it was restored, and none is left once the run ended.
    expect([...recorder.started].sort()).toEqual(['a.txt', 'b/c.txt']);
    expect(recorder.inFlight.size).toBe(0);
  });

  it('should count a file already there with the same content as unchanged', async () => {
    await writeTree(join(dir, 'dest'), { 'restored/a.txt': 'alpha' });
    const { sut, recorder } = setup([record('a.txt', 'alpha'), record('b/c.txt', 'charlie')]);

    await sut.execute(restoreRun(), recorder, new AbortController().signal);

    expect(recorder.counters).toMatchObject({ filesCopied: 1, filesUnchanged: 1 });
  });

  it('should fail a file whose stored copy does not match the ledger and remove what it wrote', async () => {
    const { sut, recorder } = setup([
      record('a.txt', 'alpha', { sha256: sha256('not alpha') }),
      record('b/c.txt', 'charlie'),
    ]);

    await expect(sut.execute(restoreRun(), recorder, new AbortController().signal)).rejects.toThrow(
      FilesFailedError,
    );

    expect(recorder.counters).toMatchObject({ filesCopied: 1, filesFailed: 1 });
    expect(recorder.linesAt('error')[0]?.message).toContain("does not match the ledger's SHA-256");
    await expect(readFile(join(dir, 'dest', 'restored/a.txt'))).rejects.toThrow();
  });

  it('should fail, not silently drop, a file a connector aborted when the run was not cancelled', async () => {
    // An AbortError the run's signal did not cause was taken for a cancellation: the restore
    // "completed" without the file and without an error.
    const abort = () =>
      Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    const stored = new FaultyConnector(backup, (op, path) =>
      op === 'read' && path === 'v1/a.txt' ? abort() : undefined,
    );
    const { sut, recorder } = setup(
      [record('a.txt', 'alpha'), record('b/c.txt', 'charlie')],
      'complete',
      stored,
    );

    await expect(sut.execute(restoreRun(), recorder, new AbortController().signal)).rejects.toThrow(
      FilesFailedError,
    );

    expect(recorder.counters).toMatchObject({ filesCopied: 1, filesFailed: 1 });
    expect(recorder.linesAt('error')[0]?.path).toBe('a.txt');
  });

  it('should refuse a stored path that would escape the destination', async () => {
    const { sut, recorder } = setup([record('../outside.txt', 'alpha')]);

    await expect(sut.execute(restoreRun(), recorder, new AbortController().signal)).rejects.toThrow(
      FilesFailedError,
    );

    expect(recorder.linesAt('error')[0]?.message).toContain("refused '../outside.txt'");
  });

  it('should warn that a partial version cannot give back what it never stored', async () => {
    const { sut, recorder } = setup([record('a.txt', 'alpha')], 'partial');

    await sut.execute(restoreRun(), recorder, new AbortController().signal);

    expect(recorder.linesAt('warning').map((l) => l.message)).toEqual([
      'version 1 is partial: files it never stored cannot be restored',
    ]);
  });
});
