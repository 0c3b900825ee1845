import {
  AuthExpiredError,
  ConnectorError,
  isAbortError,
  isRetryable,
  QuotaExceededError,
  RootMissingError,
  SourceOfflineError,
  TargetOfflineError,
} from '../../connectors/connector.errors.js';
import { SourceGoneError } from './transfer-file.js';

/** What a run does with one file's failed attempt. */
export type FileErrorVerdict =
  /** Try the same file again after a backoff pause. */
  | { action: 'retry' }
  /** Deleted at the source since it was listed: not in this version, not an error. */
  | { action: 'vanished' }
  /** Skip this file, record why, and carry on: the run completes with warnings. */
  | { action: 'skip-file'; code: string; reason: string }
  /** No other file can escape this either: stop the whole run. */
  | { action: 'stop-run'; error: unknown }
  /** The run was cancelled: not the file's fault, nothing to record. */
  | { action: 'cancelled' };

export interface AttemptContext {
  /** 1 for the first try. */
  attempt: number;
  /** Tries a file gets in all (BACKUP_FILE_ATTEMPTS). */
  maxAttempts: number;
  /** The run's signal was aborted (cancel, pause, shutdown). */
  aborted: boolean;
}

/**
 * The one place that decides whether a failure is the file's or the run's (issue 18, item 5).
 * One bad file never fails a run: a name the target cannot hold, an unreadable file, a source
 * whose bytes do not match its own hash, a file that keeps failing after the retries are the
 * file's. Only expired credentials, a full target and a missing source or target stop a run.
 */
export function classifyFileError(e: unknown, ctx: AttemptContext): FileErrorVerdict {
  // Only the run's own signal means "cancelled". An AbortError it did not cause (a client
  // library's timeout, a stream torn down under load) is the file's failure like any cut
  // connection: taken for a cancellation, the file was left out of a `completed` version with
  // no retry, error or warning.
  if (ctx.aborted) return { action: 'cancelled' };
  if (isRunStopping(e)) return { action: 'stop-run', error: e };
  if (e instanceof SourceGoneError) return { action: 'vanished' };
  const retryable = isRetryable(e) || isAbortError(e);
  if (retryable && ctx.attempt < ctx.maxAttempts) return { action: 'retry' };
  const code = e instanceof ConnectorError ? e.code : isAbortError(e) ? 'ABORTED' : 'UNKNOWN';
  const detail = e instanceof Error ? e.message || e.name : String(e);
  const reason =
    retryable && ctx.maxAttempts > 1
      ? `${detail} (still failing after ${ctx.attempt} tries)`
      : detail;
  return { action: 'skip-file', code, reason };
}

/** Errors that end the whole run at once. */
export function isRunStopping(e: unknown): boolean {
  return (
    e instanceof AuthExpiredError ||
    e instanceof QuotaExceededError ||
    e instanceof SourceOfflineError ||
    e instanceof TargetOfflineError ||
    e instanceof RootMissingError
  );
}

/** How a stopped run ends: its own state for an offline side, else plain failure. */
export function runEndFor(e: unknown): 'source-offline' | 'target-offline' | 'failed' {
  if (e instanceof SourceOfflineError) return 'source-offline';
  if (e instanceof TargetOfflineError) return 'target-offline';
  return 'failed';
}
