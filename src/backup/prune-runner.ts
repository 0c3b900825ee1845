import type { Clock } from '../common/clock.js';
import { FatalError } from '../connectors/connector.errors.js';
import type { Connector } from '../connectors/connector.js';
import { isEmptyPolicy } from '../versions/retention.js';
import type { VersionsService } from '../versions/versions.service.js';
import { describeError, type ConnectorProvider, type RunKindExecutor } from './backup-runner.js';
import type { RunEventEntity } from './entities/run-error.entity.js';
import type { RunEntity } from './entities/run.entity.js';
import type { RunEventsSink } from './run-events.js';
import type { RunsRepository } from './runs.repository.js';
import type { TasksRepository } from './tasks.repository.js';

/** Applies a task's retention policy as a run of its own, with a log of what it deleted. */
export class PruneRunner implements RunKindExecutor {
  constructor(
    private readonly runs: RunsRepository,
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly connectors: ConnectorProvider,
    private readonly events: RunEventsSink,
    private readonly clock: Clock,
  ) {}

  async execute(run: RunEntity, signal: AbortSignal): Promise<void> {
    const startedAt = this.clock.now();
    await this.runs.update(run.id, { status: 'running', phase: 'transferring', startedAt });
    this.events.runStarted({ ...run, status: 'running', startedAt });
    const log: Array<Omit<RunEventEntity, 'id'>> = [];
    const note = (message: string, path: string | null = null) =>
      log.push({ runId: run.id, level: 'info', path, code: null, message, at: this.clock.now() });
    let target: Connector | undefined;
    try {
      const task = await this.tasks.findById(run.taskId);
      if (!task) throw new FatalError(`task ${run.taskId} was deleted`);
      if (isEmptyPolicy(task.retention))
        throw new FatalError('the task has no retention policy: nothing to prune');
      target = await this.connectors.open(task.targetAccountId, {});
      const result = await this.versions.prune(task, target, task.retention!, {
        signal,
        onVersionDeleted: (v) =>
          note(`deleted version ${v.seq} of ${v.createdAt.toISOString()} (${v.status})`),
        onBytesFreed: (path, size) => note(`removed ${size} bytes no kept version needs`, path),
      });
      note(
        `kept what the policy ${JSON.stringify(task.retention)} asks; ${result.deletedVersions} version(s) deleted`,
      );
      const finishedAt = this.clock.now();
      const patch = {
        status: 'completed' as const,
        phase: 'done' as const,
        finishedAt,
        filesTotal: result.filesRemoved,
        bytesTotal: result.bytesFreed,
        errorMessage: null,
      };
      await this.runs.addEvents(log);
      await this.runs.update(run.id, patch);
      this.events.runFinished({ ...run, ...patch });
    } catch (e) {
      const finishedAt = this.clock.now();
      const status = signal.aborted ? ('cancelled' as const) : ('failed' as const);
      const patch = { status, phase: 'done' as const, finishedAt, errorMessage: describeError(e) };
      await this.runs.addEvents(log).catch(() => undefined);
      await this.runs.update(run.id, patch);
      this.events.runFinished({ ...run, ...patch });
    } finally {
      await target?.close?.().catch(() => undefined);
    }
  }
}
