import type { RunEntity } from '../backup/entities/run.entity.js';
import type { RunCounters } from '../backup/runs.repository.js';

export const RUN_EVENTS = {
  started: 'backup.run.started',
  progress: 'backup.run.progress',
  completed: 'backup.run.completed',
  failed: 'backup.run.failed',
  cancelled: 'backup.run.cancelled',
} as const;

export interface RunProgressEvent extends RunCounters {
  runId: string;
  taskId: string;
}

/** Where the engine announces what runs do; notifications and the UI listen, nobody is called. */
export interface RunEventsSink {
  runStarted(run: RunEntity): void;
  runProgress(p: RunProgressEvent): void;
  runFinished(run: RunEntity): void;
}
