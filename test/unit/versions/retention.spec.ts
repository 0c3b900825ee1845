import {
  isEmptyPolicy,
  selectVersionsToKeep,
  type RetentionCandidate,
} from '../../../src/versions/retention.js';

/** One complete version per day at noon UTC, from 2026-01-01, seq 1..n. */
function daily(n: number): RetentionCandidate[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    createdAt: new Date(Date.UTC(2026, 0, 1 + i, 12)),
    status: 'complete' as const,
  }));
}

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

describe('selectVersionsToKeep', () => {
  it('should keep the newest N with keepLast', () => {
    expect(sorted(selectVersionsToKeep(daily(10), { keepLast: 3 }))).toEqual([8, 9, 10]);
  });

  it('should keep the newest version of each of the last N days', () => {
    const twiceADay = daily(5).flatMap((v) => [
      { ...v, seq: v.seq * 2 - 1 },
      { ...v, seq: v.seq * 2, createdAt: new Date(v.createdAt.getTime() + 3_600_000) },
    ]);
    expect(sorted(selectVersionsToKeep(twiceADay, { keepDaily: 3 }))).toEqual([6, 8, 10]);
  });

  it('should keep one version per ISO week and per month', () => {
    const year = daily(120); // 2026-01-01 .. 2026-04-30
    // Weeks end on Sundays: Apr 26 (seq 116) closes week 17; Apr 30 (seq 120) is in week 18.
    expect(sorted(selectVersionsToKeep(year, { keepWeekly: 2 }))).toEqual([116, 120]);
    // Newest of each month: Jan 31 (31), Feb 28 (59), Mar 31 (90), Apr 30 (120).
    expect(sorted(selectVersionsToKeep(year, { keepMonthly: 12 }))).toEqual([31, 59, 90, 120]);
  });

  it('should combine rules as a union, like keep-daily 7 keep-weekly 4 keep-monthly 12', () => {
    const keep = selectVersionsToKeep(daily(120), { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 });
    expect(sorted(keep)).toEqual([31, 59, 90, 102, 109, 114, 115, 116, 117, 118, 119, 120]);
  });

  it('should always keep the newest complete version and anything newer than it', () => {
    const versions: RetentionCandidate[] = [
      ...daily(3),
      { seq: 4, createdAt: new Date(), status: 'partial' },
    ];
    expect(sorted(selectVersionsToKeep(versions, { keepDaily: 0 }))).toEqual([3, 4]);
  });

  it('should not count partial versions toward a policy, and drop old ones', () => {
    const versions: RetentionCandidate[] = [
      { seq: 1, createdAt: new Date(Date.UTC(2026, 0, 1)), status: 'complete' },
      { seq: 2, createdAt: new Date(Date.UTC(2026, 0, 2)), status: 'partial' },
      { seq: 3, createdAt: new Date(Date.UTC(2026, 0, 3)), status: 'complete' },
    ];
    expect(sorted(selectVersionsToKeep(versions, { keepLast: 2 }))).toEqual([1, 3]);
  });

  it('should treat a policy of zeros as keeping everything', () => {
    expect(isEmptyPolicy({ keepLast: 0 })).toBe(true);
    expect(isEmptyPolicy(null)).toBe(true);
    expect(isEmptyPolicy({ keepMonthly: 1 })).toBe(false);
  });
});

describe('selectVersionsToKeep with held versions (issue 18)', () => {
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1 + i, 12));

  it('should keep everything older than a held version, whatever the policy', () => {
    const versions: RetentionCandidate[] = [
      ...daily(4),
      { seq: 5, createdAt: at(5), status: 'held' },
    ];

    expect(sorted(selectVersionsToKeep(versions, { keepLast: 1 }))).toEqual([1, 2, 3, 4, 5]);
  });

  it('should not count a held version toward keepLast, so the last complete one stays', () => {
    const versions: RetentionCandidate[] = [
      { seq: 1, createdAt: at(1), status: 'complete' },
      { seq: 2, createdAt: at(2), status: 'held' },
    ];

    expect(sorted(selectVersionsToKeep(versions, { keepLast: 1 }))).toEqual([1, 2]);
  });

  it('should prune normally again once the held version is approved', () => {
    const versions: RetentionCandidate[] = [
      { seq: 1, createdAt: at(1), status: 'complete' },
      { seq: 2, createdAt: at(2), status: 'complete' },
    ];

    expect(sorted(selectVersionsToKeep(versions, { keepLast: 1 }))).toEqual([2]);
  });

  it('should never keep a discarded version', () => {
    const versions: RetentionCandidate[] = [
      ...daily(2),
      { seq: 3, createdAt: at(3), status: 'discarded' },
    ];

    expect(sorted(selectVersionsToKeep(versions, { keepLast: 5 }))).toEqual([1, 2]);
  });

  it('should keep the newest complete version when only partial or held versions are newer', () => {
    const versions: RetentionCandidate[] = [
      ...daily(3),
      { seq: 4, createdAt: at(4), status: 'partial' },
      { seq: 5, createdAt: at(5), status: 'partial' },
    ];

    expect(sorted(selectVersionsToKeep(versions, { keepLast: 1 }))).toEqual([3, 4, 5]);
  });
});
