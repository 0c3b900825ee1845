import type { RunEntity } from '../tasks/entities/run.entity.js';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import type { VersionEntity } from '../versions/entities/version.entity.js';
import { DST_RULE, MONTH_END_RULE, toZonedIso } from '../scheduler/schedule.js';
import { effectiveDeletionGuard } from '../versions/deletion-guard.js';

export function toTaskView(t: TaskEntity) {
  return {
    id: t.id,
    name: t.name,
    sourceAccountId: t.sourceAccountId,
    sourcePath: t.sourcePath,
    targetAccountId: t.targetAccountId,
    targetPath: t.targetPath,
    filter: { mode: t.filterMode, extensions: t.filterExtensions },
    concurrency: t.concurrency,
    retention: t.retention,
    enabled: t.enabled,
    /** The same switch as `enabled`, inverted: a paused task gets no scheduled runs. */
    paused: !t.enabled,
    schedule: {
      ...t.schedule,
      ...(t.schedule.kind === 'monthly' ? { monthEndRule: MONTH_END_RULE } : {}),
      ...(t.schedule.kind !== 'none' ? { dstRule: DST_RULE } : {}),
    },
    catchUp: t.catchUp,
    notifications: { emails: t.notifyEmails, on: t.notifyOn, webhookUrl: t.webhookUrl },
    deletionGuard: effectiveDeletionGuard(t.deletionGuard),
    verify: {
      readPercent: t.verifyReadPercent,
      readBackAfterWrite: t.readBackAfterWrite,
      schedule: t.verifySchedule ?? { kind: 'none' },
    },
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** A task with its next scheduled runs (ISO 8601 with the schedule zone's offset). */
export function toTaskDetailView(t: TaskEntity, nextRuns: Date[], nextVerifyRuns: Date[] = []) {
  const view = toTaskView(t);
  return {
    ...view,
    nextRuns: nextRuns.map((d) => toZonedIso(d, t.schedule.timezone)),
    verify: {
      ...view.verify,
      nextRuns: nextVerifyRuns.map((d) => toZonedIso(d, t.verifySchedule?.timezone)),
    },
  };
}

export function toRunView(r: RunEntity) {
  const end = r.finishedAt ?? (r.startedAt ? new Date() : null);
  return {
    ...r,
    durationMs: r.startedAt && end ? end.getTime() - r.startedAt.getTime() : null,
  };
}

export function toVersionView(v: VersionEntity) {
  return { ...v };
}
