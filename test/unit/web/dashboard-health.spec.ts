import type { Account, Run, RunOutcome, Task, TaskHealth } from '../../../web/src/api.js';
import { dayOutcome, healthOf } from '../../../web/src/health.js';

const task = { id: 't', name: 'Photos', enabled: true, sourceAccountId: 's', targetAccountId: 'd' };

function health(patch: Partial<TaskHealth>): TaskHealth {
  return {
    task: task as Task,
    lastBackup: { status: 'completed' } as Run,
    lastVerify: null,
    lastSuccess: {
      versionId: 'v',
      seq: 1,
      runId: 'r',
      completedAt: null,
      fileCount: 1,
      totalBytes: 1,
    },
    nextRun: null,
    heldVersions: [],
    storedBytes: 0,
    recentRuns: [],
    ...patch,
  };
}

const accounts = (state: Account['state'] = 'connected') =>
  new Map([
    ['s', { id: 's', state } as Account],
    ['d', { id: 'd', state: 'connected' } as Account],
  ]);

describe('healthOf', () => {
  it('should call a task healthy when its last backup completed', () => {
    expect(healthOf(health({}), accounts())).toBe('ok');
  });

  it('should put a failed last backup first', () => {
    const h = health({ lastBackup: { status: 'failed' } as Run, heldVersions: [] });
    expect(healthOf(h, accounts('needs-reauth'))).toBe('failed');
  });

  it('should ask for attention when a version is held', () => {
    const h = health({ heldVersions: [{ id: 'v2', seq: 2, createdAt: '2026-12-06T00:00:00Z' }] });
    expect(healthOf(h, accounts())).toBe('attention');
  });

  it('should ask for attention when the last verify run failed', () => {
    expect(healthOf(health({ lastVerify: { status: 'failed' } as Run }), accounts())).toBe(
      'attention',
    );
  });

  it('should ask for attention when an account of the task needs a new sign-in', () => {
    expect(healthOf(health({}), accounts('needs-reauth'))).toBe('attention');
  });

  it('should say never when nothing completed yet', () => {
    expect(healthOf(health({ lastBackup: null, lastSuccess: null }), accounts())).toBe('never');
  });
});

describe('dayOutcome (one cell of the 30-day strip)', () => {
  const runs = (...statuses: RunOutcome['status'][]) =>
    statuses.map((status, i) => ({ id: `r${i}`, status }) as RunOutcome);

  it('should make a day whose only run ended with warnings amber, not green', () => {
    expect(dayOutcome(runs('warning'))).toBe('warning');
    expect(dayOutcome(runs('completed', 'warning'))).toBe('warning');
  });

  it('should give offline days their own colour, below a failure', () => {
    expect(dayOutcome(runs('offline'))).toBe('offline');
    expect(dayOutcome(runs('offline', 'completed'))).toBe('offline');
    expect(dayOutcome(runs('offline', 'failed'))).toBe('failed');
    expect(dayOutcome(runs('warning', 'offline'))).toBe('offline');
  });

  it('should keep green for clean days and grey for days without runs', () => {
    expect(dayOutcome(runs('completed', 'completed'))).toBe('ok');
    expect(dayOutcome(runs())).toBe('none');
    expect(dayOutcome(runs('skipped'))).toBe('other');
  });
});
