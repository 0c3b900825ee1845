import { jest } from '@jest/globals';
import { TransientError } from '../../../src/connectors/connector.errors.js';
import type { RunEventsSink } from '../../../src/runs/run-events.js';
import { FilesFailedError } from '../../../src/runs/run-outcome.js';
import { RepositoryRunRecorder, type RunRecorderDeps } from '../../../src/runs/run-recorder.js';
import { aRun } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';

type Runs = RunRecorderDeps['runs'];

describe('RepositoryRunRecorder', () => {
  function setup() {
    let ticks = 0;
    const runs: jest.Mocked<Runs> = {
      update: jest.fn<Runs['update']>().mockResolvedValue(undefined),
      addEvents: jest.fn<Runs['addEvents']>().mockResolvedValue(undefined),
    };
    const events: jest.Mocked<RunEventsSink> = {
      runStarted: jest.fn(),
      runProgress: jest.fn(),
      runFinished: jest.fn(),
    };
    const clock = new FakeClock();
    const sut = new RepositoryRunRecorder(aRun(), { runs, events, clock, ticks: () => ticks });
    const advance = (ms: number) => (ticks += ms);
    const logged = () => runs.addEvents.mock.calls.flatMap((c) => c[0]);
    return { sut, runs, events, clock, advance, logged };
  }

  it('should mark the run running and announce it when started', async () => {
    const { sut, runs, events, clock } = setup();

    await sut.start('planning');

    expect(runs.update).toHaveBeenCalledWith('run-1', {
      status: 'running',
      phase: 'planning',
      startedAt: clock.now(),
    });
    expect(events.runStarted).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'run-1', status: 'running' }),
    );
  });

  it('should publish progress at most once a second unless forced', async () => {
    const { sut, events, advance } = setup();
    advance(5_000);
    sut.addBytes(10);

    await sut.progress();
    await sut.progress();
    advance(999);
    await sut.progress();
    await sut.progress(true);
    advance(1_000);
    await sut.progress();

    expect(events.runProgress).toHaveBeenCalledTimes(3);
    expect(events.runProgress).toHaveBeenLastCalledWith(
      expect.objectContaining({ runId: 'run-1', taskId: 'task-1', bytesCopied: 10 }),
    );
  });

  it('should hand back no promise when progress is not due or the run is not paused (issue #21)', async () => {
    const { sut, advance } = setup();
    advance(5_000);
    await sut.progress();

    // Called after every file: a promise each cost an AsyncLocalStorage hook and its allocation.
    expect(sut.progress()).toBeUndefined();
    expect(sut.checkpoint(new AbortController().signal)).toBeUndefined();
    advance(1_000);
    expect(sut.progress()).toBeInstanceOf(Promise);
  });

  it('should list the files in flight with their own bytes in the progress event', async () => {
    const { sut, events, runs } = setup();
    sut.fileStarted('films/holiday.mov', 10_000_000);
    sut.fileStarted('notes.txt', 12);
    sut.addBytes(4_000_000, 'films/holiday.mov');
    sut.addBytes(12, 'notes.txt');
    sut.fileEnded('notes.txt');

    await sut.progress(true);

    expect(events.runProgress).toHaveBeenLastCalledWith(
      expect.objectContaining({
        bytesCopied: 4_000_012,
        files: [{ path: 'films/holiday.mov', size: 10_000_000, bytes: 4_000_000 }],
      }),
    );
    // The run's row keeps its counters only.
    expect(runs.update.mock.calls.at(-1)![1]).not.toHaveProperty('files');
    // A failed attempt takes its bytes back; an ended file leaves the list.
    sut.addBytes(-4_000_000, 'films/holiday.mov');
    sut.fileEnded('films/holiday.mov');
    await sut.progress(true);
    expect(events.runProgress.mock.calls.at(-1)![0]).not.toHaveProperty('files');
  });

  it('should count and log per-file errors, warnings and retries with the connector error code', async () => {
    const { sut, logged } = setup();

    sut.fileFailed('a.txt', new TransientError('reset'));
    sut.warn('b.txt: deleted at the source during the run', 'b.txt');
    sut.retry('copy c.txt (attempt 2)', new TransientError('503'), 250);
    await sut.progress(true);

    expect(sut.counters).toMatchObject({ filesFailed: 1, retries: 1 });
    expect(logged().map((e) => [e.level, e.path, e.code, e.message])).toEqual([
      ['error', 'a.txt', 'TRANSIENT', 'reset'],
      ['warning', 'b.txt', null, 'b.txt: deleted at the source during the run'],
      ['retry', null, 'TRANSIENT', 'copy c.txt (attempt 2): 503; retrying in 250 ms'],
    ]);
  });

  it('should keep only the first 5,000 events of a run in its log', async () => {
    const { sut, logged } = setup();

    for (let i = 0; i < 5_010; i++) sut.fileFailed(`f${i}`, new Error('x'));
    await sut.progress(true);

    expect(logged()).toHaveLength(5_000);
    expect(sut.counters.filesFailed).toBe(5_010);
  });

  it('should write the final row with the counters and announce it only once, after', async () => {
    const { sut, runs, events, clock } = setup();
    sut.count('filesCopied', 2);

    await sut.finish('completed');
    expect(events.runFinished).not.toHaveBeenCalled();
    sut.announce();
    sut.announce();

    expect(runs.update).toHaveBeenLastCalledWith(
      'run-1',
      expect.objectContaining({
        status: 'completed',
        phase: 'done',
        filesCopied: 2,
        errorMessage: null,
        finishedAt: clock.now(),
      }),
      undefined,
    );
    expect(events.runFinished).toHaveBeenCalledTimes(1);
    expect(events.runFinished).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'completed', filesCopied: 2 }),
    );
  });

  it('should carry the first errors and a held version in the final event (notifications read nothing else)', async () => {
    const { sut, events } = setup();
    sut.warn('a file vanished mid-run', 'gone.txt');
    for (let i = 0; i < 12; i++) sut.fileFailed(`bad-${i}.txt`, new Error('unreadable'));
    const held = {
      versionId: 'v2',
      reason: 'emptied',
      deleted: 30,
      changed: 0,
      previousFileCount: 30,
    };

    await sut.finish('warning', { message: 'version held', held });
    sut.announce();

    const event = events.runFinished.mock.calls[0]![0];
    expect(event.firstErrors).toHaveLength(10);
    expect(event.firstErrors![0]).toEqual({ path: 'bad-0.txt', message: 'unreadable' });
    expect(event.held).toEqual(held);
    expect(event).toMatchObject({
      status: 'warning',
      filesFailed: 12,
      errorMessage: 'version held',
    });
  });

  it('should refuse to finish a run twice', async () => {
    const { sut } = setup();
    await sut.finish('completed');

    await expect(sut.finish('failed')).rejects.toThrow('already completed');
  });

  it('should record a run whose signal fired as cancelled by the user', async () => {
    const { sut, runs } = setup();
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the user'));

    const res = await sut.fail(new Error('This operation was aborted'), controller.signal);

    expect(res).toEqual({ cancelled: true, message: 'cancelled by the user' });
    expect(runs.update).toHaveBeenLastCalledWith(
      'run-1',
      expect.objectContaining({ status: 'cancelled', errorMessage: 'cancelled by the user' }),
      undefined,
    );
  });

  it('should record failed files as a failure even when a cancel came in meanwhile', async () => {
    const { sut } = setup();
    const controller = new AbortController();
    controller.abort();

    const res = await sut.fail(
      new FilesFailedError('2 file(s) could not be copied'),
      controller.signal,
    );

    expect(res).toEqual({ cancelled: false, message: '2 file(s) could not be copied' });
    expect(sut.run.status).toBe('failed');
  });
});
