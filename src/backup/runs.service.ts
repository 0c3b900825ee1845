import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock.js';
import { ConflictAppError, NotFoundAppError } from '../common/errors/app-errors.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { RunEventEntity } from './entities/run-error.entity.js';
import type { RunEntity, RunTrigger } from './entities/run.entity.js';
import type { RunQueue } from './run-queue.js';
import type { RunsRepository } from './runs.repository.js';
import type { TasksRepository } from './tasks.repository.js';

export class RunsService {
  private readonly logger = new Logger('RunsService');

  constructor(
    private readonly runs: RunsRepository,
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly queue: RunQueue,
    private readonly clock: Clock,
  ) {}

  /** Queues a backup run of the task; refuses a second one while one is queued or running. */
  async startBackup(taskId: string, trigger: RunTrigger): Promise<RunEntity> {
    const task = await this.tasks.findById(taskId);
    if (!task) throw NotFoundAppError.of('task', taskId);
    const active = await this.runs.findActiveForTask(taskId);
    if (active) {
      throw new ConflictAppError(
        `task '${task.name}' already has a ${active.status} run (${active.id})`,
      );
    }
    const run = await this.runs.insert({
      id: randomUUID(),
      taskId,
      kind: 'backup',
      trigger,
      status: 'queued',
      phase: 'queued',
      filesTotal: 0,
      filesCopied: 0,
      filesUnchanged: 0,
      filesFiltered: 0,
      filesFailed: 0,
      bytesTotal: 0,
      bytesCopied: 0,
      retries: 0,
      versionId: null,
      params: null,
      errorMessage: null,
      createdAt: this.clock.now(),
      startedAt: null,
      finishedAt: null,
    });
    this.queue.enqueue(run.id, taskId);
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
    this.queue.cancel(id);
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
   * At start-up: runs a dead process left 'running' are failed (their versions stay partial, and
   * the next run reuses what they stored); runs still 'queued' are queued again.
   */
  async recoverAfterRestart(): Promise<void> {
    const interrupted = await this.runs.listByStatus(['running']);
    for (const run of interrupted) {
      await this.runs.update(run.id, {
        status: 'failed',
        phase: 'done',
        finishedAt: this.clock.now(),
        errorMessage:
          'interrupted: the engine stopped during this run; the next run continues from what it stored',
      });
    }
    const partial = await this.versions.markInterruptedVersions();
    if (interrupted.length > 0 || partial > 0) {
      this.logger.warn(
        `marked ${interrupted.length} interrupted run(s) failed and ${partial} version(s) partial`,
      );
    }
    for (const run of await this.runs.listByStatus(['queued']))
      this.queue.enqueue(run.id, run.taskId);
  }
}
