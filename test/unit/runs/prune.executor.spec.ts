import { jest } from '@jest/globals';
import type { Connector } from '../../../src/connectors/connector.js';
import type { ConnectorProvider } from '../../../src/runs/connector-provider.js';
import { PruneExecutor } from '../../../src/runs/executors/prune.executor.js';
import type { VersionEntity } from '../../../src/versions/entities/version.entity.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeRunRecorder } from '../../support/fake-run-recorder.js';

type Deps = ConstructorParameters<typeof PruneExecutor>;

describe('PruneExecutor', () => {
  function setup(retention: { keepLast?: number } | null = { keepLast: 1 }) {
    const target = { kind: 'local', close: () => Promise.resolve() } as unknown as Connector;
    const tasks: jest.Mocked<Deps[0]> = {
      findById: jest.fn<Deps[0]['findById']>().mockResolvedValue(aTask({ retention })),
    };
    const versions: jest.Mocked<Deps[1]> = {
      prune: jest.fn<Deps[1]['prune']>().mockImplementation((_t, _c, _p, hooks) => {
        hooks.onVersionDeleted({
          seq: 1,
          createdAt: new Date('2026-11-20T03:00:00Z'),
          status: 'complete',
        } as VersionEntity);
        hooks.onBytesFreed('v000001/a.txt', 5);
        return Promise.resolve({ deletedVersions: 1, filesRemoved: 1, bytesFreed: 5 });
      }),
    };
    const connectors: jest.Mocked<Pick<ConnectorProvider, 'open'>> = {
      open: jest.fn<ConnectorProvider['open']>().mockResolvedValue(target),
    };
    return {
      sut: new PruneExecutor(tasks, versions, connectors),
      versions,
      recorder: new FakeRunRecorder(),
    };
  }

  it('should log each deleted version and freed file and count what was removed', async () => {
    const { sut, recorder } = setup();

    await sut.execute(aRun({ kind: 'prune' }), recorder, new AbortController().signal);

    expect(recorder.linesAt('info').map((l) => [l.path, l.message])).toEqual([
      [null, 'deleted version 1 of 2026-11-20T03:00:00.000Z (complete)'],
      ['v000001/a.txt', 'removed 5 bytes no kept version needs'],
      [null, 'kept what the policy {"keepLast":1} asks; 1 version(s) deleted'],
    ]);
    expect(recorder.counters).toMatchObject({ filesTotal: 1, bytesTotal: 5 });
  });

  it('should fail without touching the target when the task has no retention policy', async () => {
    const { sut, versions, recorder } = setup(null);

    await expect(
      sut.execute(aRun({ kind: 'prune' }), recorder, new AbortController().signal),
    ).rejects.toThrow('the task has no retention policy: nothing to prune');
    expect(versions.prune).not.toHaveBeenCalled();
  });

  it('should show the transferring phase from its start', () => {
    expect(setup().sut.firstPhase).toBe('transferring');
  });
});
