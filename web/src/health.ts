import type { Account, TaskHealth } from './api.js';

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
