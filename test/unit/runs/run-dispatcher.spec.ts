import { jest } from '@jest/globals';
import type { RunEntity } from '../../../src/tasks/entities/run.entity.js';
import { RunDispatcher, type RunDispatcherDeps } from '../../../src/runs/run-dispatcher.js';
import type { RunEventsSink } from '../../../src/runs/run-events.js';
import type { RunExecutor } from '../../../src/runs/run-executor.js';
import { FilesFailedError } from '../../../src/runs/run-outcome.js';
import type { RunRecorder } from '../../../src/runs/run-recorder.js';
import { aRun } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';

type Runs = RunDispatcherDeps['runs'];
type Versions = RunDispatcherDeps['versions'];

describe('RunDispatcher', () => {
  function setup(run: RunEntity | null, work: RunExecutor['execute']) {
    const runs: jest.Mocked<Runs> = {
      findById: jest.fn<Runs['findById']>().mockResolvedValue(run),
      update: jest.fn<Runs['update']>().mockResolvedValue(undefined),
      addEvents: jest.fn<Runs['addEvents']>().mockResolvedValue(undefined),
    };
    const versions: jest.Mocked<Versions> = {
      markRunVersionsPartial: jest.fn<Versions['markRunVersionsPartial']>().mockResolvedValue(1),
    };
    const events: jest.Mocked<RunEventsSink> = {
      runStarted: jest.fn(),
      runProgress: jest.fn(),
      runFinished: jest.fn(),
    };
    const executor: RunExecutor = { kind: 'backup', execute: jest.fn(work) };
    const sut = new RunDispatcher({ runs, versions, events, clock: new FakeClock() }, [executor]);
    const finalUpdate = () => runs.update.mock.calls.at(-1)?.[1];
    return { sut, runs, versions, events, executor, finalUpdate };
  }

  it('should complete a run whose executor returned', async () => {
    const { sut, events, finalUpdate } = setup(aRun(), async (_run, rec) => {
      rec.count('filesCopied', 3);
    });

    await sut.execute('run-1', new AbortController().signal);

    expect(finalUpdate()).toMatchObject({ status: 'completed', phase: 'done', filesCopied: 3 });
    expect(events.runStarted).toHaveBeenCalledTimes(1);
    expect(events.runFinished).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'completed', filesCopied: 3 }),
    );
  });

  it('should record the message of an executor that threw', async () => {
    const { sut, events, finalUpdate } = setup(aRun(), () =>
      Promise.reject(new FilesFailedError('1 file(s) could not be copied')),
    );

    await sut.execute('run-1', new AbortController().signal);

    expect(finalUpdate()).toMatchObject({
      status: 'failed',
      errorMessage: '1 file(s) could not be copied',
    });
    expect(events.runFinished).toHaveBeenCalledWith(expect.objectContaining({ status: 'failed' }));
  });

  it('should announce an outcome the executor wrote itself once it returns', async () => {
    let announcedBeforeReturn = false;
    const { sut, events } = setup(aRun(), async (_run, rec: RunRecorder) => {
      await rec.finish('completed', { em: {} as never });
      announcedBeforeReturn = events.runFinished.mock.calls.length > 0;
    });

    await sut.execute('run-1', new AbortController().signal);

    expect(announcedBeforeReturn).toBe(false);
    expect(events.runFinished).toHaveBeenCalledTimes(1);
  });

  it('should do nothing for a run delivered again after it finished', async () => {
    const { sut, executor, runs } = setup(aRun({ status: 'completed' }), () => Promise.resolve());

    await sut.execute('run-1', new AbortController().signal);

    expect(executor.execute).not.toHaveBeenCalled();
    expect(runs.update).not.toHaveBeenCalled();
  });

  it('should mark what an interrupted attempt stored partial before running it again', async () => {
    const { sut, versions, executor } = setup(aRun({ status: 'running' }), () => Promise.resolve());

    await sut.execute('run-1', new AbortController().signal);

    expect(versions.markRunVersionsPartial).toHaveBeenCalledWith('run-1');
    expect(executor.execute).toHaveBeenCalled();
  });

  it('should fail a run of a kind no executor handles instead of leaving it running', async () => {
    const { sut, finalUpdate } = setup(aRun({ kind: 'prune' }), () => Promise.resolve());

    await sut.execute('run-1', new AbortController().signal);

    expect(finalUpdate()).toMatchObject({
      status: 'failed',
      errorMessage: "no executor for runs of kind 'prune'",
    });
  });

  it('should refuse two executors for one kind at start-up', () => {
    const e: RunExecutor = { kind: 'backup', execute: () => Promise.resolve() };
    expect(() => new RunDispatcher({} as RunDispatcherDeps, [e, e])).toThrow(
      "two executors for runs of kind 'backup'",
    );
  });
});
