import type { RunEntity } from '../backup/entities/run.entity.js';
import type { TaskEntity } from '../backup/entities/task.entity.js';
import type { VersionEntity } from '../versions/entities/version.entity.js';

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
    enabled: t.enabled,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
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
