import type { VersionStatus } from './entities/version.entity.js';

/** restic-style retention: which versions a policy keeps. */
export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export interface RetentionCandidate {
  seq: number;
  createdAt: Date;
  status: VersionStatus;
}

export function isEmptyPolicy(p: RetentionPolicy | null | undefined): boolean {
  return (
    !p || !((p.keepLast ?? 0) || (p.keepDaily ?? 0) || (p.keepWeekly ?? 0) || (p.keepMonthly ?? 0))
  );
}

/** ISO 8601 week of a UTC date, as 'YYYY-Www'. */
function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * The sequence numbers of the versions to keep. Only complete versions count toward a policy;
 * the newest complete version is always kept; a version newer than it (a run in progress or just
 * broken, or held) is kept too, since the next run builds on what it stored. Held versions (the
 * deletion guard stopped them) are always kept and freeze retention: nothing older than a held
 * version is pruned until it is approved or discarded, so an emptied source cannot take the
 * versions that still hold its files with it. Discarded versions are never kept. Buckets are UTC
 * days, ISO weeks and calendar months; in each of the newest N buckets the newest version is kept.
 */
export function selectVersionsToKeep(
  versions: RetentionCandidate[],
  policy: RetentionPolicy,
): Set<number> {
  const live = versions.filter((v) => v.status !== 'discarded');
  const complete = live.filter((v) => v.status === 'complete').sort((a, b) => b.seq - a.seq);
  const keep = new Set<number>();
  const newestHeld = Math.max(0, ...live.filter((v) => v.status === 'held').map((v) => v.seq));
  if (complete.length === 0 || newestHeld > 0) {
    for (const v of live) if (complete.length === 0 || v.seq <= newestHeld) keep.add(v.seq);
    if (complete.length === 0) return keep;
  }
  const newest = complete[0]!;
  keep.add(newest.seq);
  for (const v of live) if (v.seq > newest.seq) keep.add(v.seq);
  for (const v of complete.slice(0, policy.keepLast ?? 0)) keep.add(v.seq);
  const bucketed = (n: number | undefined, key: (d: Date) => string) => {
    if (!n) return;
    const seen = new Set<string>();
    for (const v of complete) {
      const k = key(v.createdAt);
      if (seen.has(k)) continue;
      seen.add(k);
      keep.add(v.seq);
      if (seen.size >= n) break;
    }
  };
  bucketed(policy.keepDaily, (d) => d.toISOString().slice(0, 10));
  bucketed(policy.keepWeekly, isoWeek);
  bucketed(policy.keepMonthly, (d) => d.toISOString().slice(0, 7));
  return keep;
}
