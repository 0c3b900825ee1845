import type { Account, RunOutcome, TaskHealth } from './api.js';

/** How a task is doing, worst first: what the card's badge and colour say. */
export type Health = 'failed' | 'attention' | 'running' | 'never' | 'paused' | 'ok';

export function healthOf(t: TaskHealth, accounts: Map<string, Account>): Health {
  const last = t.lastBackup;
  if (last && (last.status === 'running' || last.status === 'queued')) return 'running';
  if (
    last &&
    (last.status === 'failed' || last.status === 'offline' || last.status === 'cancelled')
  )
    return 'failed';
  const signIn = [t.task.sourceAccountId, t.task.targetAccountId].some(
    (id) => accounts.get(id)?.state === 'needs-reauth',
  );
  if (
    last?.status === 'warning' ||
    t.heldVersions.length > 0 ||
    t.lastVerify?.status === 'failed' ||
    signIn
  )
    return 'attention';
  if (!t.lastSuccess) return t.task.enabled ? 'never' : 'paused';
  return t.task.enabled ? 'ok' : 'paused';
}

/** The colour of one day in the 30-day strip. */
export type DayOutcome = 'failed' | 'offline' | 'warning' | 'running' | 'ok' | 'other' | 'none';

/**
 * The worst outcome of a day's runs: a failed run colours the day even if a retry passed; an
 * offline run (a drive not plugged in) is its own colour; a run that ended with warnings makes
 * the day amber, never green.
 */
export function dayOutcome(runs: RunOutcome[]): DayOutcome {
  if (runs.length === 0) return 'none';
  const has = (...s: RunOutcome['status'][]) => runs.some((r) => s.includes(r.status));
  if (has('failed')) return 'failed';
  if (has('offline')) return 'offline';
  if (has('warning')) return 'warning';
  if (has('running', 'queued')) return 'running';
  if (has('completed')) return 'ok';
  return 'other';
}
