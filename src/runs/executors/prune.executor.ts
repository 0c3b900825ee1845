import { FatalError } from '../../connectors/connector.errors.js';
import type { Connector } from '../../connectors/connector.js';
import { isEmptyPolicy } from '../../versions/retention.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { RunEntity } from '../../tasks/entities/run.entity.js';
import type { TasksRepository } from '../../tasks/tasks.repository.js';
import type { ConnectorProvider } from '../connector-provider.js';
import type { RunExecutor } from '../run-executor.js';
import type { RunRecorder } from '../run-recorder.js';

/** Applies a task's retention policy as a run of its own, with a log of what it deleted. */
export class PruneExecutor implements RunExecutor {
  readonly kind = 'prune' as const;
  readonly firstPhase = 'transferring' as const;

  constructor(
    private readonly tasks: Pick<TasksRepository, 'findById'>,
    private readonly versions: Pick<VersionsService, 'prune'>,
    private readonly connectors: Pick<ConnectorProvider, 'open'>,
  ) {}

  async execute(run: RunEntity, rec: RunRecorder, signal: AbortSignal): Promise<void> {
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
          rec.info(`deleted version ${v.seq} of ${v.createdAt.toISOString()} (${v.status})`),
        onBytesFreed: (path, size) => rec.info(`removed ${size} bytes no kept version needs`, path),
      });
      rec.info(
        `kept what the policy ${JSON.stringify(task.retention)} asks; ${result.deletedVersions} version(s) deleted`,
      );
      rec.counters.filesTotal = result.filesRemoved;
      rec.counters.bytesTotal = result.bytesFreed;
    } finally {
      await target?.close?.().catch(() => undefined);
    }
  }
}
