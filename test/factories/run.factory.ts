import type { RunEntity } from '../../src/tasks/entities/run.entity.js';
import type { TaskEntity } from '../../src/tasks/entities/task.entity.js';

/** A queued manual backup run; patch what the test is about. */
export function aRun(patch: Partial<RunEntity> = {}): RunEntity {
  return {
    id: 'run-1',
    taskId: 'task-1',
    kind: 'backup',
    trigger: 'manual',
    status: 'queued',
    phase: 'queued',
    filesTotal: 0,
    filesCopied: 0,
    filesUnchanged: 0,
    filesFiltered: 0,
    filesFailed: 0,
    bytesTotal: 0,
    bytesCopied: 0,
    bytesUnchanged: 0,
    retries: 0,
    versionId: null,
    params: null,
    errorMessage: null,
    scheduledFor: null,
    createdAt: new Date('2026-11-22T03:00:00Z'),
    startedAt: null,
    finishedAt: null,
    ...patch,
  };
}

/** A task backing up the whole source into `backup/` of the target. */
export function aTask(patch: Partial<TaskEntity> = {}): TaskEntity {
  return {
    id: 'task-1',
    name: 'Photos',
    ownerId: null,
    sourceAccountId: 'acc-src',
    sourcePath: '',
    targetAccountId: 'acc-tgt',
    targetPath: 'backup',
    filterMode: 'all',
    filterExtensions: [],
    concurrency: 2,
    enabled: true,
    changeCursor: null,
    retention: null,
    ...patch,
  } as TaskEntity;
}
