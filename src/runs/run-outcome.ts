import type { RunStatus } from '../tasks/entities/run.entity.js';
import { RUN_EVENTS } from './run-events.js';

/**
 * How a run can end: the status its row gets and the event announced. A new outcome (a version
 * held for approval, an offline target) is one entry here plus the status it writes; the
 * recorder, the dispatcher and the event publisher need no change.
 */
export const RUN_OUTCOMES = {
  completed: { status: 'completed', event: RUN_EVENTS.completed },
  /** Done, but look: files skipped (bad names, unreadable), a version held, damage found. */
  warning: { status: 'warning', event: RUN_EVENTS.completed },
  /** The source or target is missing (unplugged drive, vanished folder): nothing was written. */
  offline: { status: 'offline', event: RUN_EVENTS.failed },
  failed: { status: 'failed', event: RUN_EVENTS.failed },
  cancelled: { status: 'cancelled', event: RUN_EVENTS.cancelled },
} as const satisfies Record<string, { status: RunStatus; event: string }>;

export type RunOutcome = keyof typeof RUN_OUTCOMES;

/** The event announcing a finished run of this status ('failed' for a status no outcome has). */
export function finishedEventOf(status: RunStatus): string {
  for (const o of Object.values(RUN_OUTCOMES)) if (o.status === status) return o.event;
  return RUN_EVENTS.failed;
}

/**
 * Thrown by an executor when its loop ended but some files failed: the run fails with this
 * message, and is not counted as cancelled even if a cancel came in meanwhile.
 */
export class FilesFailedError extends Error {
  override readonly name = 'FilesFailedError';
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
