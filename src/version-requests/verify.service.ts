import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { RunStarter } from '../runs/runs.service.js';
import type { RunEntity, VerifyParams } from '../tasks/entities/run.entity.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { VersionsService } from '../versions/versions.service.js';

/** Checks verify requests (a version, a task, a whole target account) and queues them as runs. */
export class VerifyService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly runs: RunStarter,
  ) {}

  /**
   * Queues a verify run: one version (`versionId`), or every version of the task. `readPercent`
   * (0-100) of the stored copies are read back; all are checked by listing.
   */
  async startVerify(
    taskId: string,
    opts: { versionId?: string; readPercent?: number },
  ): Promise<RunEntity> {
    // Without a percent of its own, a run reads back what the task says (0 for a new task).
    const readPercent =
      opts.readPercent ?? (await this.tasks.findById(taskId))?.verifyReadPercent ?? 0;
    if (!Number.isFinite(readPercent) || readPercent < 0 || readPercent > 100)
      throw new ValidationAppError(['readPercent must be a number from 0 to 100']);
    if (opts.versionId) {
      const v = await this.versions.getVersion(opts.versionId);
      if (v.taskId !== taskId) throw NotFoundAppError.of('version', opts.versionId);
    }
    const params: VerifyParams = {
      readPercent,
      ...(opts.versionId ? { versionId: opts.versionId } : {}),
    };
    return this.runs.start('verify', taskId, { params, versionId: opts.versionId ?? null });
  }

  /** Verifies everything stored on a target account: one verify run per task that uses it. */
  async startVerifyTarget(
    accountId: string,
    ownerId: string | null,
    readPercent?: number,
  ): Promise<RunEntity[]> {
    const tasks = (await this.tasks.listUsingAccount(accountId)).filter(
      (t) => t.targetAccountId === accountId && (ownerId === null || t.ownerId === ownerId),
    );
    if (tasks.length === 0)
      throw new ValidationAppError([`account '${accountId}' is the target of no task`]);
    const runs: RunEntity[] = [];
    for (const t of tasks) runs.push(await this.startVerify(t.id, { readPercent }));
    return runs;
  }
}
