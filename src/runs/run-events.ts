import type { RunEntity } from '../tasks/entities/run.entity.js';
import type { RunCounters } from '../tasks/runs.repository.js';

export const RUN_EVENTS = {
  started: 'backup.run.started',
  progress: 'backup.run.progress',
  completed: 'backup.run.completed',
  failed: 'backup.run.failed',
  cancelled: 'backup.run.cancelled',
} as const;

/** A file being copied now, with the bytes of it moved so far (a large file moves inside). */
export interface InFlightFile {
  path: string;
  size: number | null;
  bytes: number;
}

export interface RunProgressEvent extends RunCounters {
  runId: string;
  taskId: string;
  /** The files in flight (at most MAX_IN_FLIGHT_SHOWN), oldest first; absent when none. */
  files?: InFlightFile[];
}

/**
 * A finished run as its final event carries it: the final row, plus what its owner is told and
 * the database does not hold in the row (notifications build their message from this alone).
 */
export interface RunFinishedEvent extends RunEntity {
  /** The first error-level lines of the run log (at most 10): failed or skipped files and why. */
  firstErrors?: Array<{ path: string | null; message: string }>;
  /** The version this run committed was held by the deletion guard: why, and what it would do. */
  held?: {
    versionId: string;
    reason: string;
    deleted: number;
    changed: number;
    previousFileCount: number;
  };
}

/** Progress events list at most this many files in flight (the pool's concurrency, capped). */
export const MAX_IN_FLIGHT_SHOWN = 16;

/** Where the engine announces what runs do; notifications and the UI listen, nobody is called. */
export interface RunEventsSink {
  runStarted(run: RunEntity): void;
  runProgress(p: RunProgressEvent): void;
  runFinished(run: RunFinishedEvent): void;
}
