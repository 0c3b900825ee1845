/**
 * The deletion guard (issue 18, item 2): a version that deletes or changes much more than usual
 * (an emptied source, an unmounted drive, ransomware rewriting every file, a cloud account reset)
 * is committed `held` instead of `complete`: kept, not counted by retention, nothing older pruned
 * until an owner approves it.
 */
export interface DeletionThresholds {
  /** Hold when more than this share (0-1) of the last complete version's files went away. */
  maxShare: number;
  /** ...and more than this many files did (small folders change wholesale legitimately). */
  minFiles: number;
  /** Count changed files with the deleted ones (ransomware rewrites rather than deletes). */
  countChanged: boolean;
  /** Hold when the source lists nothing at all where the last complete version held files. */
  holdWhenEmptied: boolean;
}

export const DEFAULT_DELETION_THRESHOLDS: DeletionThresholds = {
  maxShare: 0.5,
  minFiles: 20,
  countChanged: true,
  holdWhenEmptied: true,
};

/** What the new version does to the last complete one. */
export interface VersionChange {
  /** Files of the last complete version; null when there is none (a first run is never held). */
  previousFileCount: number | null;
  /** Files the new version holds. */
  fileCount: number;
  /** Paths of the last complete version gone from the new one. */
  deleted: number;
  /** Paths in both whose content differs. */
  changed: number;
}

export type GuardVerdict =
  | { verdict: 'ok' }
  | {
      verdict: 'hold';
      reason: string;
      /** Files of the last complete version the held one would drop (all of them when emptied). */
      deleted: number;
      changed: number;
      previousFileCount: number;
    };

/** Decides whether a version is committed complete or held. Pure. */
export function checkDeletionGuard(
  change: VersionChange,
  thresholds: DeletionThresholds | null = DEFAULT_DELETION_THRESHOLDS,
): GuardVerdict {
  const prev = change.previousFileCount;
  if (!thresholds || prev === null || prev === 0) return { verdict: 'ok' };
  if (thresholds.holdWhenEmptied && change.fileCount === 0) {
    return {
      verdict: 'hold',
      reason: `the source listed no files at all, where the last complete version held ${prev}: an emptied or unmounted source?`,
      deleted: prev,
      changed: 0,
      previousFileCount: prev,
    };
  }
  const gone = change.deleted + (thresholds.countChanged ? change.changed : 0);
  const share = gone / prev;
  if (share > thresholds.maxShare && gone > thresholds.minFiles) {
    const what = thresholds.countChanged
      ? `${change.deleted} deleted and ${change.changed} changed`
      : `${change.deleted} deleted`;
    return {
      verdict: 'hold',
      reason: `${what} of ${prev} files (${Math.round(share * 100)} %, more than ${Math.round(thresholds.maxShare * 100)} % and more than ${thresholds.minFiles} files): much more than usual`,
      deleted: change.deleted,
      changed: change.changed,
      previousFileCount: prev,
    };
  }
  return { verdict: 'ok' };
}
