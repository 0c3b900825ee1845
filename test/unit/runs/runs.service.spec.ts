import { jest } from '@jest/globals';
import type { RunEntity } from '../../../src/tasks/entities/run.entity.js';
import type { RunsRepository } from '../../../src/tasks/runs.repository.js';
import { ConflictAppError, NotFoundAppError } from '../../../src/common/errors/app-errors.js';
import { LocalRunControl } from '../../../src/runs/run-control.js';
import type { RunQueue } from '../../../src/runs/run-queue.js';
import { RunExistsError, RunsService } from '../../../src/runs/runs.service.js';
import { aRun, aTask } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';

type Deps = ConstructorParameters<typeof RunsService>;

describe('RunsService.start', () => {
  function setup(active: RunEntity | null = null) {
    const runs = {
      findById: jest.fn<RunsRepository['findById']>().mockResolvedValue(null),
      findActiveForTask: jest.fn<RunsRepository['findActiveForTask']>().mockResolvedValue(active),
      insert: jest.fn<RunsRepository['insert']>().mockImplementation((r) => Promise.resolve(r)),
    } as unknown as jest.Mocked<RunsRepository>;
    const tasks: jest.Mocked<Deps[1]> = {
      findById: jest.fn<Deps[1]['findById']>().mockResolvedValue(aTask()),
    };
    const queue: jest.Mocked<RunQueue> = {
      enqueue: jest.fn(),
      cancel: jest.fn<RunQueue['cancel']>(),
      idle: jest.fn<RunQueue['idle']>(),
      close: jest.fn<RunQueue['close']>(),
    };
    const clock = new FakeClock();
    const versions = { markInterruptedVersions: () => Promise.resolve(0) };
    const sut = new RunsService(runs, tasks, versions, queue, clock);
    return { sut, runs, tasks, queue, clock };
  }

  it('should insert a queued run with zero counters and queue it', async () => {
    const { sut, queue, clock } = setup();

    const run = await sut.start('backup', 'task-1');

    expect(run).toEqual(aRun({ id: run.id, createdAt: clock.now() }));
    expect(queue.enqueue).toHaveBeenCalledWith(run.id, 'task-1');
  });

  it('should carry the parameters and version of a restore', async () => {
    const { sut } = setup();
    const params = {
      versionId: 'v1',
      paths: [],
      destination: { accountId: 'a', path: '' },
      conflict: 'overwrite' as const,
    };

    const run = await sut.start('restore', 'task-1', { params, versionId: 'v1' });

    expect(run).toMatchObject({ kind: 'restore', params, versionId: 'v1', trigger: 'manual' });
  });

  it('should refuse a second run while the task has one running', async () => {
    const { sut, queue } = setup(aRun({ id: 'r0', status: 'running' }));

    await expect(sut.start('backup', 'task-1')).rejects.toThrow(
      new ConflictAppError("task 'Photos' already has a running run (r0)"),
    );
    await expect(sut.start('prune', 'task-1')).rejects.toThrow(
      "task 'Photos' already has a running backup run (r0)",
    );
    expect(queue.enqueue).not.toHaveBeenCalled();
  });

  it('should queue a restore behind a running run of its task', async () => {
    const { sut, queue, runs } = setup(aRun({ id: 'r0', status: 'running' }));

    const run = await sut.start('restore', 'task-1', { whenBusy: 'queue' });

    expect(run.status).toBe('queued');
    expect(runs.findActiveForTask).not.toHaveBeenCalled();
    expect(queue.enqueue).toHaveBeenCalledWith(run.id, 'task-1');
  });

  it('should record a skipped run when a schedule slot comes while the previous run goes on', async () => {
    const { sut, queue, clock } = setup(aRun({ id: 'r0', status: 'running' }));
    const slot = new Date('2026-11-22T02:30:00Z');

    const run = await sut.start('backup', 'task-1', {
      id: 'slot-run',
      trigger: 'schedule',
      scheduledFor: slot,
      whenBusy: 'skip',
    });

    expect(run).toMatchObject({
      id: 'slot-run',
      status: 'skipped',
      phase: 'done',
      scheduledFor: slot,
      finishedAt: clock.now(),
      errorMessage: 'skipped: the previous run (r0) was still running',
    });
    expect(queue.enqueue).not.toHaveBeenCalled();
  });

  it('should refuse a run id that is taken (a slot fired twice)', async () => {
    const { sut, runs } = setup();
    runs.findById.mockResolvedValue(aRun({ id: 'slot-run' }));

    await expect(sut.start('backup', 'task-1', { id: 'slot-run' })).rejects.toThrow(RunExistsError);
    expect(runs.insert).not.toHaveBeenCalled();
  });

  it('should answer 404 for a task that does not exist', async () => {
    const { sut, tasks } = setup();
    tasks.findById.mockResolvedValue(null);

    await expect(sut.start('backup', 'nope')).rejects.toThrow(NotFoundAppError);
  });
});

describe('RunsService.pause and resume', () => {
  function setup(run: RunEntity) {
    const runs = {
      findById: jest.fn<RunsRepository['findById']>().mockResolvedValue(run),
    } as unknown as jest.Mocked<RunsRepository>;
    const queue = { enqueue: jest.fn(), cancel: jest.fn() } as unknown as RunQueue;
    const tasks = { findById: jest.fn<Deps[1]['findById']>() };
    const versions = { markInterruptedVersions: () => Promise.resolve(0) };
    const control = new LocalRunControl();
    const sut = new RunsService(runs, tasks, versions, queue, new FakeClock(), control);
    return { sut, control };
  }

  it('should pause a running run and resume it', async () => {
    const { sut, control } = setup(aRun({ status: 'running' }));

    await sut.pause('run-1');
    expect(control.isPaused('run-1')).toBe(true);
    await sut.resume('run-1');
    expect(control.isPaused('run-1')).toBe(false);
  });

  it('should refuse to pause a run that is not running', async () => {
    const { sut } = setup(aRun({ status: 'queued' }));

    await expect(sut.pause('run-1')).rejects.toThrow(
      new ConflictAppError("run 'run-1' is queued; only a running run can be paused"),
    );
  });

  it('should refuse to resume a run that is not paused', async () => {
    const { sut } = setup(aRun({ status: 'running' }));

    await expect(sut.resume('run-1')).rejects.toThrow("run 'run-1' is not paused");
  });
});
