import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RunEventEntity } from '../tasks/entities/run-error.entity.js';
import type {
  RestoreParams,
  RunEntity,
  VerifyParams,
  RunKind,
  RunTrigger,
} from '../tasks/entities/run.entity.js';
import type { RunsRepository } from '../tasks/runs.repository.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { ConflictAppError, NotFoundAppError } from '../common/errors/app-errors.js';
import type { VersionsService } from '../versions/versions.service.js';
import { LocalRunControl, type RunControl } from './run-control.js';
import type { RunTransaction } from './run-finish-hooks.js';
import type { RunQueue } from './run-queue.js';
import { zeroCounters } from './run-recorder.js';

export interface StartRunOptions {
  /** Who asked: 'manual' when absent. */
  trigger?: RunTrigger;
  /** What a restore or a verify run is asked to do. */
  params?: RestoreParams | VerifyParams | null;
  /** The version the run reads (a restore). */
  versionId?: string | null;
  /** A run id fixed by the caller (a schedule slot: one run per slot, whatever node fires it). */
  id?: string;
  /** The schedule slot a scheduled or catch-up run belongs to. */
  scheduledFor?: Date;
  /**
   * When the task already has a queued or running run: 'refuse' (409, the default), 'queue'
   * (run after it; the queue never runs two of one task together), or 'skip' (record a
   * 'skipped' run that never executes: a schedule slot that came while the previous run went on).
   */
  whenBusy?: 'refuse' | 'queue' | 'skip';
  /**
   * Insert the run in this transaction (a finish hook's: the prune after a backup is inserted
   * with the backup's version) and queue it once that has committed.
   */
  tx?: RunTransaction;
}

/** The one way a run is started; what the scheduler, tasks and restore services depend on. */
export interface RunStarter {
  start(kind: RunKind, taskId: string, opts?: StartRunOptions): Promise<RunEntity>;
}

/** A run id given to `start` is taken already (the slot was fired before). */
export class RunExistsError extends ConflictAppError {}

/**
 * Starts, lists, cancels and recovers runs of every kind. `start` is the only place a run row is
 * inserted and queued; executors (see `RunDispatcher`) do the rest.
 */
export class RunsService implements RunStarter {
  private readonly logger = new Logger('RunsService');

  constructor(
    private readonly runs: RunsRepository,
    private readonly tasks: Pick<TasksRepository, 'findById'>,
    private readonly versions: Pick<VersionsService, 'markInterruptedVersions'>,
    private readonly queue: RunQueue,
    private readonly clock: Clock,
    /** Cancel and pause across nodes (cluster); in-process by default. */
    private readonly control: RunControl = new LocalRunControl(),
  ) {
    // Whichever node a cancel reaches, each node's queue drops or aborts the run it holds.
    control.onCancel((runId) => this.queue.cancel(runId));
  }

  /** Inserts a run of `kind` for the task and queues it (or records it skipped, see `whenBusy`). */
  async start(kind: RunKind, taskId: string, opts: StartRunOptions = {}): Promise<RunEntity> {
    const task = await this.tasks.findById(taskId);
    if (!task) throw NotFoundAppError.of('task', taskId);
    const em = opts.tx?.em;
    if (opts.id && (await this.runs.findById(opts.id, em)))
      throw new RunExistsError(`run '${opts.id}' exists already`);
    const whenBusy = opts.whenBusy ?? 'refuse';
    const active = whenBusy === 'queue' ? null : await this.runs.findActiveForTask(taskId, em);
    const now = this.clock.now();
    const base: RunEntity = {
      id: opts.id ?? randomUUID(),
      taskId,
      kind,
      trigger: opts.trigger ?? 'manual',
      status: 'queued',
      phase: 'queued',
      ...zeroCounters(),
      versionId: opts.versionId ?? null,
      params: opts.params ?? null,
      errorMessage: null,
      scheduledFor: opts.scheduledFor ?? null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
    };
    if (active && whenBusy === 'refuse') {
      throw new ConflictAppError(
        `task '${task.name}' already has a ${active.status} ${active.kind === kind ? '' : `${active.kind} `}run (${active.id})`,
      );
    }
    if (active) {
      this.logger.warn(
        `task '${task.name}': ${kind} run skipped, run ${active.id} is still ${active.status}`,
      );
      return this.runs.insert(
        {
          ...base,
          status: 'skipped',
          phase: 'done',
          errorMessage: `skipped: the previous run (${active.id}) was still ${active.status}`,
          finishedAt: now,
        },
        em,
      );
    }
    const run = await this.runs.insert(base, em);
    if (opts.tx) opts.tx.afterCommit(() => this.queue.enqueue(run.id, taskId));
    else this.queue.enqueue(run.id, taskId);
    return run;
  }

  async get(id: string): Promise<RunEntity> {
    const run = await this.runs.findById(id);
    if (!run) throw NotFoundAppError.of('run', id);
    return run;
  }

  list(opts: { taskId?: string; ownerTaskIds?: string[]; limit: number }): Promise<RunEntity[]> {
    return this.runs.list(opts);
  }

  async events(
    id: string,
    opts: { levels?: RunEventEntity['level'][]; limit: number; afterId?: number },
  ): Promise<RunEventEntity[]> {
    await this.get(id);
    return this.runs.listEvents(id, opts);
  }

  async cancel(id: string): Promise<RunEntity> {
    const run = await this.get(id);
    if (run.status !== 'queued' && run.status !== 'running') {
      throw new ConflictAppError(
        `run '${id}' is ${run.status}; only a queued or running run can be cancelled`,
      );
    }
    await this.control.cancel(id);
    if (run.status === 'queued') {
      await this.runs.update(id, {
        status: 'cancelled',
        phase: 'done',
        finishedAt: this.clock.now(),
        errorMessage: 'cancelled by the user',
      });
    }
    return this.get(id);
  }

  /**
   * Holds a running run between files (the files in flight finish; phase 'paused' once held),
   * whichever node executes it, until `resume` or `cancel`.
   */
  async pause(id: string): Promise<RunEntity> {
    const run = await this.get(id);
    if (run.status !== 'running') {
      throw new ConflictAppError(`run '${id}' is ${run.status}; only a running run can be paused`);
    }
    await this.control.pause(id);
    return run;
  }

  async resume(id: string): Promise<RunEntity> {
    const run = await this.get(id);
    if (run.status !== 'running' || !(await this.control.pausedAnywhere(id))) {
      throw new ConflictAppError(`run '${id}' is not paused`);
    }
    await this.control.resume(id);
    return run;
  }

  /** Adds a warning to a finished run's log (a mail that could not be sent, for example). */
  async note(runId: string, code: string, message: string): Promise<void> {
    await this.runs.addEvents([
      { runId, level: 'warning', path: null, code, message, at: this.clock.now() },
    ]);
  }

  /**
   * At start-up: runs a dead process left 'running' are failed (their versions stay partial, and
   * the next run reuses what they stored); runs still 'queued' are queued again.
   */
  /**
   * Embedded mode, at start-up: runs a dead process left 'running' are resumed (as BullMQ hands a
   * dead worker's job on in a cluster): their versions become partial and the run executes again,
   * reusing every file the ledger recorded. A run that was already resumed twice is failed
   * instead, so a run that crashes the engine cannot keep it from starting.
   */
  async recoverAfterRestart(): Promise<void> {
    const interrupted = await this.runs.listByStatus(['running']);
    const partial = await this.versions.markInterruptedVersions();
    let resumed = 0;
    for (const run of interrupted) {
      const earlier = (
        await this.runs.listEvents(run.id, { levels: ['warning'], limit: 5000 })
      ).filter((e) => e.code === RESUMED_CODE).length;
      if (earlier >= MAX_RESUMES) {
        await this.runs.update(run.id, {
          status: 'failed',
          phase: 'done',
          finishedAt: this.clock.now(),
          errorMessage: `interrupted: the engine stopped during this run ${earlier + 1} times; the next run continues from what it stored`,
        });
        continue;
      }
      await this.runs.addEvents([
        {
          runId: run.id,
          level: 'warning',
          path: null,
          code: RESUMED_CODE,
          message:
            'interrupted: the engine stopped during this run; resumed at start-up, reusing what it stored',
          at: this.clock.now(),
        },
      ]);
      this.queue.enqueue(run.id, run.taskId);
      resumed++;
    }
    if (interrupted.length > 0 || partial > 0) {
      this.logger.warn(
        `resumed ${resumed} interrupted run(s), failed ${interrupted.length - resumed}, ${partial} version(s) partial`,
      );
    }
    for (const run of await this.runs.listByStatus(['queued']))
      this.queue.enqueue(run.id, run.taskId);
  }
}

/** The run log code of a resume at start-up; counted to stop a run that keeps crashing the engine. */
const RESUMED_CODE = 'resumed';
/** Resumes at start-up before an interrupted run is failed instead. */
const MAX_RESUMES = 2;

/**
 * Cluster mode: BullMQ gave a run up after its workers died twice. Without this its row would
 * stay 'running' and block every later run of its task.
 */
export async function failGivenUpRun(
  deps: {
    runs: Pick<RunsRepository, 'failIfActive'>;
    versions: Pick<VersionsService, 'markRunVersionsPartial'>;
    clock: Clock;
  },
  runId: string,
  reason: string,
): Promise<void> {
  const message = `the run was given up after its workers stopped twice (${reason}); the next run continues from what it stored`;
  if (await deps.runs.failIfActive(runId, message, deps.clock.now()))
    await deps.versions.markRunVersionsPartial(runId);
}
