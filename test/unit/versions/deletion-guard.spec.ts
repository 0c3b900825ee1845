import {
  checkDeletionGuard,
  DEFAULT_DELETION_GUARD,
  DEFAULT_DELETION_THRESHOLDS,
  deletionThresholdsOf,
  effectiveDeletionGuard,
} from '../../../src/versions/deletion-guard.js';

const change = (over: Partial<Parameters<typeof checkDeletionGuard>[0]> = {}) => ({
  previousFileCount: 100,
  fileCount: 100,
  deleted: 0,
  changed: 0,
  ...over,
});

describe('checkDeletionGuard', () => {
  it('should pass an ordinary version', () => {
    expect(checkDeletionGuard(change({ deleted: 5, changed: 10 }))).toEqual({ verdict: 'ok' });
  });

  it('should hold a version of 0 files when the last complete one held files', () => {
    const v = checkDeletionGuard(change({ fileCount: 0, deleted: 3, previousFileCount: 3 }));

    expect(v).toMatchObject({ verdict: 'hold' });
    expect((v as { reason: string }).reason).toContain('listed no files at all');
  });

  it('should hold when more than half the files and more than 20 are deleted', () => {
    const v = checkDeletionGuard(change({ fileCount: 49, deleted: 51 }));

    expect(v).toMatchObject({ verdict: 'hold' });
    expect((v as { reason: string }).reason).toContain(
      '51 deleted and 0 changed of 100 files (51 %',
    );
  });

  it('should count changed files with deleted ones (ransomware rewrites files)', () => {
    expect(checkDeletionGuard(change({ deleted: 10, changed: 45 }))).toMatchObject({
      verdict: 'hold',
    });
    expect(
      checkDeletionGuard(change({ deleted: 10, changed: 45 }), {
        ...DEFAULT_DELETION_THRESHOLDS,
        countChanged: false,
      }),
    ).toEqual({ verdict: 'ok' });
  });

  it('should not hold a small folder that changed wholesale (20 files or fewer)', () => {
    expect(
      checkDeletionGuard(change({ previousFileCount: 20, fileCount: 1, deleted: 19 })),
    ).toEqual({ verdict: 'ok' });
  });

  it('should hold exactly past the threshold, not at it', () => {
    expect(checkDeletionGuard(change({ deleted: 50 }))).toEqual({ verdict: 'ok' });
    expect(checkDeletionGuard(change({ deleted: 51 }))).toMatchObject({ verdict: 'hold' });
  });

  it('should never hold a first version, nor when the guard is off', () => {
    expect(checkDeletionGuard(change({ previousFileCount: null, fileCount: 0 }))).toEqual({
      verdict: 'ok',
    });
    expect(checkDeletionGuard(change({ fileCount: 0, deleted: 100 }), null)).toEqual({
      verdict: 'ok',
    });
  });

  it('should follow per-task thresholds', () => {
    const strict = { ...DEFAULT_DELETION_THRESHOLDS, maxShare: 0.1, minFiles: 5 };

    expect(checkDeletionGuard(change({ deleted: 11 }), strict)).toMatchObject({ verdict: 'hold' });
  });
});

describe('deletionThresholdsOf (a task setting)', () => {
  const thirty = { previousFileCount: 100, fileCount: 70, deleted: 30, changed: 0 };

  it('should use the defaults when the task never set the guard, and hold nothing at 30 %', () => {
    expect(deletionThresholdsOf(null)).toEqual(DEFAULT_DELETION_THRESHOLDS);
    expect(checkDeletionGuard(thirty, deletionThresholdsOf(null))).toEqual({ verdict: 'ok' });
  });

  it('should hold by a stricter task threshold, keeping the fields the task did not set', () => {
    const t = deletionThresholdsOf({ percent: 20, minFiles: 10 });
    expect(t).toEqual({ ...DEFAULT_DELETION_THRESHOLDS, maxShare: 0.2, minFiles: 10 });
    expect(checkDeletionGuard(thirty, t)).toMatchObject({
      verdict: 'hold',
      deleted: 30,
      previousFileCount: 100,
    });
  });

  it('should be off only when the task says enabled: false', () => {
    expect(deletionThresholdsOf({ enabled: false, percent: 1 })).toBeNull();
    expect(deletionThresholdsOf({ percent: 100 })).not.toBeNull();
    expect(effectiveDeletionGuard({})).toEqual(DEFAULT_DELETION_GUARD);
  });
});
