import type { Clock } from '../common/clock.js';
import type { Database } from '../persistence/database.js';
import { VersionFileEntity } from '../versions/entities/version-file.entity.js';
import type { VersionEntity } from '../versions/entities/version.entity.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { RunEntity } from './entities/run.entity.js';
import type { TaskEntity } from './entities/task.entity.js';
import type { RunSearch, RunsRepository } from './runs.repository.js';

/** How far back the dashboard's strip of run outcomes goes. */
export const STRIP_DAYS = 30;
/** Enough runs for 30 days of an hourly task and its restores. */
const STRIP_RUN_LIMIT = 2000;

/** One run of the strip: enough to colour a day, and a link. */
export interface RunOutcome {
  id: string;
  kind: string;
  status: string;
  createdAt: Date;
  finishedAt: Date | null;
}

/** The last version a backup completed: what a restore can count on. */
export interface ProtectedVersion {
  versionId: string;
  seq: number;
  runId: string;
  completedAt: Date | null;
  fileCount: number;
  totalBytes: number;
}

export interface TaskHealth {
  task: TaskEntity;
  /** The newest backup run, whatever its outcome (a queued or running one included). */
  lastBackup: RunEntity | null;
  /** The newest verify run, when the task has any. */
  lastVerify: RunEntity | null;
  lastSuccess: ProtectedVersion | null;
  nextRun: Date | null;
  /** Versions kept back for an owner's decision (a version that deleted or changed too much). */
  heldVersions: { id: string; seq: number; createdAt: Date }[];
  /** Bytes this task's versions keep on the target (each stored copy once). */
  storedBytes: number;
  recentRuns: RunOutcome[];
}

export interface TargetUsage {
  accountId: string;
  storedBytes: number;
  taskIds: string[];
}

/**
 * Read-only answers for the dashboard: each task's health at a glance (last result, next run,
 * last successful version, what is protected, held versions, verify runs) and the storage the
 * engine uses on each target. Nothing here writes.
 */
export class TaskHealthService {
  constructor(
    private readonly db: Database,
    private readonly runs: RunsRepository,
    private readonly versions: Pick<VersionsService, 'listVersions'>,
    private readonly nextRuns: (task: TaskEntity) => Date[],
    private readonly clock: Clock,
  ) {}

  async overview(tasks: TaskEntity[]): Promise<{ tasks: TaskHealth[]; targets: TargetUsage[] }> {
    const taskIds = tasks.map((t) => t.id);
    const since = new Date(this.clock.now().getTime() - STRIP_DAYS * 86_400_000);
    const recent = await this.runs.search({ taskIds, from: since, limit: STRIP_RUN_LIMIT });
    const stored = await this.storedBytesByTask(taskIds);
    const out: TaskHealth[] = [];
    for (const task of tasks) {
      const mine = recent.filter((r) => r.taskId === task.id);
      const [lastBackup] = mine.some((r) => r.kind === 'backup')
        ? mine.filter((r) => r.kind === 'backup')
        : await this.runs.search({ taskIds: [task.id], kinds: ['backup'], limit: 1 });
      const [lastVerify] = await this.runs.search({
        taskIds: [task.id],
        kinds: ['verify'],
        limit: 1,
      });
      const versions: VersionEntity[] = await this.versions.listVersions(task.id);
      const complete = versions
        .filter((v) => v.status === 'complete')
        .sort((a, b) => b.seq - a.seq)[0];
      out.push({
        task,
        lastBackup: lastBackup ?? null,
        lastVerify: lastVerify ?? null,
        lastSuccess: complete
          ? {
              versionId: complete.id,
              seq: complete.seq,
              runId: complete.runId,
              completedAt: complete.completedAt,
              fileCount: complete.fileCount,
              totalBytes: complete.totalBytes,
            }
          : null,
        nextRun: task.enabled ? (this.nextRuns(task)[0] ?? null) : null,
        heldVersions: versions
          .filter((v) => (v.status as string) === 'held')
          .map((v) => ({ id: v.id, seq: v.seq, createdAt: v.createdAt })),
        storedBytes: stored.get(task.id) ?? 0,
        recentRuns: mine.map((r) => ({
          id: r.id,
          kind: r.kind,
          status: r.status,
          createdAt: r.createdAt,
          finishedAt: r.finishedAt,
        })),
      });
    }
    const targets = new Map<string, TargetUsage>();
    for (const h of out) {
      const t = targets.get(h.task.targetAccountId) ?? {
        accountId: h.task.targetAccountId,
        storedBytes: 0,
        taskIds: [],
      };
      t.storedBytes += h.storedBytes;
      t.taskIds.push(h.task.id);
      targets.set(t.accountId, t);
    }
    return { tasks: out, targets: [...targets.values()] };
  }

  /** The Runs page: runs of the user's tasks by task, kind, status and date. */
  search(filter: RunSearch): Promise<RunEntity[]> {
    return this.runs.search(filter);
  }

  /** Every stored copy a task's ledger still points at, counted once. */
  private async storedBytesByTask(taskIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (taskIds.length === 0) return out;
    const rows = await this.db.dataSource
      .getRepository(VersionFileEntity)
      .createQueryBuilder('f')
      .select('f.task_id', 'taskId')
      .addSelect('SUM(f.size)', 'bytes')
      .where('f.task_id IN (:...taskIds)', { taskIds })
      .groupBy('f.task_id')
      .getRawMany<{ taskId: string; bytes: string | number | null }>();
    for (const r of rows) out.set(r.taskId, Number(r.bytes ?? 0));
    return out;
  }
}
