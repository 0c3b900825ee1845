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

/**
 * The guard as a task stores it (a task field, set through the API and the task form). On by
 * default with the defaults below; stricter or looser by `percent` and `minFiles`; off only when
 * `enabled` is set to false explicitly.
 */
export interface DeletionGuardSettings {
  enabled: boolean;
  /** Hold when more than this percent (0-100) of the last complete version's files went away. */
  percent: number;
  /** ...and more than this many files did. */
  minFiles: number;
  countChanged: boolean;
  holdWhenEmptied: boolean;
}

export const DEFAULT_DELETION_GUARD: DeletionGuardSettings = {
  enabled: true,
  percent: DEFAULT_DELETION_THRESHOLDS.maxShare * 100,
  minFiles: DEFAULT_DELETION_THRESHOLDS.minFiles,
  countChanged: DEFAULT_DELETION_THRESHOLDS.countChanged,
  holdWhenEmptied: DEFAULT_DELETION_THRESHOLDS.holdWhenEmptied,
};

/** A task's stored settings (null: never set) with the defaults filled in. */
export function effectiveDeletionGuard(
  stored: Partial<DeletionGuardSettings> | null | undefined,
): DeletionGuardSettings {
  return { ...DEFAULT_DELETION_GUARD, ...(stored ?? {}) };
}

/** What `checkDeletionGuard` compares with, from a task's settings; null when turned off. */
export function deletionThresholdsOf(
  stored: Partial<DeletionGuardSettings> | null | undefined,
): DeletionThresholds | null {
  const s = effectiveDeletionGuard(stored);
  if (!s.enabled) return null;
  return {
    maxShare: s.percent / 100,
    minFiles: s.minFiles,
    countChanged: s.countChanged,
    holdWhenEmptied: s.holdWhenEmptied,
  };
}

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
