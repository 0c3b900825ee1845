import type { Clock } from '../common/clock.js';
import {
  ConflictAppError,
  NotFoundAppError,
  ValidationAppError,
} from '../common/errors/app-errors.js';
import type { RunTransaction } from '../runs/run-finish-hooks.js';
import type { RunStarter } from '../runs/runs.service.js';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import { isEmptyPolicy, type RetentionPolicy } from '../versions/retention.js';
import type { VersionsService } from '../versions/versions.service.js';

/**
 * A task's retention policy: setting it, previewing what it would delete, and queuing the prune
 * runs that apply it (on request, after each completed backup, after a held version is approved).
 */
export class RetentionService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly runs: RunStarter,
    private readonly clock: Clock,
  ) {}

  /** Sets (or, with an empty policy, clears) the task's retention policy. */
  async setRetention(taskId: string, policy: RetentionPolicy): Promise<RetentionPolicy | null> {
    const task = await this.tasks.findById(taskId);
    if (!task) throw NotFoundAppError.of('task', taskId);
    const clean: RetentionPolicy = {};
    for (const k of ['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const) {
      if (policy[k]) clean[k] = policy[k];
    }
    task.retention = isEmptyPolicy(clean) ? null : clean;
    task.updatedAt = this.clock.now();
    await this.tasks.save(task);
    return task.retention;
  }

  /**
   * After a completed backup of a task with a policy, a prune run follows; with `tx` it is
   * inserted in the transaction that completes the backup and queued once that commits.
   */
  async pruneAfterBackup(taskId: string, tx?: RunTransaction): Promise<void> {
    const task = await this.tasks.findById(taskId);
    if (!task || isEmptyPolicy(task.retention)) return;
    await this.runs.start('prune', task.id, { tx });
  }

  /**
   * What a prune with `policy` (default: the task's own) would delete, deleting nothing: the
   * versions, and the stored files and bytes no kept version points at any more.
   */
  async previewPrune(taskId: string, policy?: RetentionPolicy) {
    const task = await this.tasks.findById(taskId);
    if (!task) throw NotFoundAppError.of('task', taskId);
    const chosen = policy && !isEmptyPolicy(policy) ? policy : task.retention;
    if (isEmptyPolicy(chosen)) {
      throw new ValidationAppError([
        'retention: the task keeps every version; give a policy (keepLast, keepDaily...) to preview',
      ]);
    }
    const plan = await this.versions.previewPrune(taskId, chosen!);
    return { policy: chosen!, ...plan };
  }

  /**
   * What approving a held version would let the task's retention delete (nothing when the task
   * keeps every version), deleting nothing: for the confirmation the owner reads first.
   */
  async previewApproval(versionId: string) {
    const v = await this.versions.getVersion(versionId);
    if (v.status !== 'held')
      throw new ConflictAppError(`version ${v.seq} is ${v.status}, not held: nothing to approve`);
    const task = await this.tasks.findById(v.taskId);
    if (!task) throw NotFoundAppError.of('task', v.taskId);
    if (isEmptyPolicy(task.retention)) return { policy: null, versions: [], files: 0, bytes: 0 };
    const plan = await this.versions.previewPrune(task.id, task.retention!, { approving: v.id });
    return { policy: task.retention!, ...plan };
  }

  /** After a held version is approved, the retention it froze applies again (when a policy is set). */
  async pruneAfterApproval(taskId: string): Promise<void> {
    // A prune already queued or running, or the next backup's prune, does the same work.
    await this.pruneAfterBackup(taskId).catch((e: unknown) => {
      if (!(e instanceof ConflictAppError)) throw e;
    });
  }

  async startPrune(taskId: string): Promise<RunEntity> {
    const task = await this.tasks.findById(taskId);
    if (!task) throw NotFoundAppError.of('task', taskId);
    if (isEmptyPolicy(task.retention)) {
      throw new ValidationAppError([
        'retention: the task keeps every version; set a retention policy first',
      ]);
    }
    return this.runs.start('prune', task.id);
  }
}
