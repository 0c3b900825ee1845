import type { Clock } from '../common/clock.js';
import {
  ConflictAppError,
  NotFoundAppError,
  ValidationAppError,
} from '../common/errors/app-errors.js';
import { InvalidPathError } from '../connectors/connector.errors.js';
import { normalizePath } from '../connectors/path.js';
import { isEmptyPolicy, type RetentionPolicy } from '../versions/retention.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { AccountLookup } from './tasks.service.js';
import type { RunTransaction } from '../runs/run-finish-hooks.js';
import type { RunStarter } from '../runs/runs.service.js';
import type {
  ConflictPolicy,
  RestoreParams,
  RunEntity,
  VerifyParams,
} from './entities/run.entity.js';
import type { TasksRepository } from './tasks.repository.js';

export interface RestoreRequest {
  paths?: string[];
  destination?: { accountId: string; path?: string };
  conflict?: ConflictPolicy;
}

/** Queues restore and prune runs: runs like backups, one at a time per task. */
export class RestoreService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly accounts: AccountLookup,
    private readonly runs: RunStarter,
    private readonly clock: Clock,
  ) {}

  async startRestore(versionId: string, req: RestoreRequest): Promise<RunEntity> {
    const version = await this.versions.getVersion(versionId);
    const task = await this.tasks.findById(version.taskId);
    if (!task) throw NotFoundAppError.of('task', version.taskId);
    const problems: string[] = [];
    const paths: string[] = [];
    for (const [i, p] of (req.paths ?? []).entries()) {
      try {
        paths.push(normalizePath(p));
      } catch (e) {
        if (e instanceof InvalidPathError) problems.push(`paths[${i}]: ${e.message}`);
        else throw e;
      }
    }
    const destination = {
      accountId: req.destination?.accountId ?? task.sourceAccountId,
      path: req.destination ? (req.destination.path ?? '') : task.sourcePath,
    };
    try {
      destination.path = normalizePath(destination.path);
    } catch (e) {
      if (e instanceof InvalidPathError) problems.push(`destination.path: ${e.message}`);
      else throw e;
    }
    if (!(await this.accounts.exists(destination.accountId))) {
      problems.push(`destination.accountId '${destination.accountId}' does not name an account`);
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
    for (const p of paths) {
      const file = await this.versions.findFile(versionId, p);
      const folder = file
        ? undefined
        : await this.versions.listFiles(versionId, { prefix: p, limit: 1 });
      if (!file && folder?.files.length === 0) {
        throw new ValidationAppError([
          `paths: '${p}' is neither a file nor a folder of version ${version.seq}`,
        ]);
      }
    }
    const params: RestoreParams = {
      versionId,
      paths,
      destination,
      conflict: req.conflict ?? 'skip-identical',
    };
    // A restore waits behind a run of its task instead of being refused.
    return this.runs.start('restore', task.id, { params, versionId, whenBusy: 'queue' });
  }

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
