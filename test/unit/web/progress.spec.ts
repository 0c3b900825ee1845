import type { Run } from '../../../web/src/api.js';
import { ProgressTracker, roughSeconds } from '../../../web/src/progress.js';

const MB = 1_000_000;

function run(patch: Partial<Run>): Run {
  return {
    id: 'r',
    taskId: 't',
    kind: 'backup',
    trigger: 'manual',
    status: 'running',
    phase: 'transferring',
    versionId: null,
    errorMessage: null,
    createdAt: '2026-12-06T10:00:00Z',
    startedAt: '2026-12-06T10:00:00Z',
    finishedAt: null,
    durationMs: null,
    filesTotal: 0,
    filesCopied: 0,
    filesUnchanged: 0,
    filesFiltered: 0,
    filesFailed: 0,
    bytesTotal: 0,
    bytesCopied: 0,
    bytesUnchanged: 0,
    retries: 0,
    params: null,
    ...patch,
  };
}

describe('ProgressTracker', () => {
  it('should measure by bytes when small files are done and a big one is not', () => {
    const sut = new ProgressTracker();
    // 3 of 4 files copied, but they are 3 bytes of 9 MB: not 75 %.
    const v = sut.view(run({ filesTotal: 4, filesCopied: 3, bytesTotal: 9 * MB, bytesCopied: 3 }));
    expect(v.measure).toBe('bytes');
    expect(v.percent).toBe(0);
  });

  it('should claim no percentage while the source is still being listed', () => {
    const sut = new ProgressTracker();
    const v = sut.view(
      run({ phase: 'planning', filesTotal: 21, bytesTotal: 21 * MB, bytesCopied: 20 * MB }),
    );
    expect(v.phase).toBe('listing');
    expect(v.percent).toBeNull();
    expect(v.secondsLeft).toBeNull();
  });

  it('should show speed only after two seconds and smooth the time left', () => {
    const sut = new ProgressTracker();
    const base = { filesTotal: 1, bytesTotal: 100 * MB };
    expect(sut.view(run({ ...base, bytesCopied: 0 }), 0).bytesPerSecond).toBeNull();
    expect(sut.view(run({ ...base, bytesCopied: 1 * MB }), 1_000).bytesPerSecond).toBeNull();
    const a = sut.view(run({ ...base, bytesCopied: 2 * MB }), 2_000);
    expect(a.bytesPerSecond).toBe(1 * MB);
    expect(a.secondsLeft).toBe(98);
    // A burst (a flush of 10 MB at once) moves time left only part of the way.
    const b = sut.view(run({ ...base, bytesCopied: 12 * MB }), 3_000);
    expect(b.bytesPerSecond).toBe(4 * MB);
    expect(b.secondsLeft).toBeGreaterThan(22);
    expect(b.secondsLeft).toBeLessThan(98);
  });

  it('should count files when an incremental run does not report the unchanged bytes', () => {
    const sut = new ProgressTracker();
    const v = sut.view(
      run({ filesTotal: 10, filesUnchanged: 8, filesCopied: 1, bytesTotal: 50 * MB }),
    );
    expect(v.measure).toBe('files');
    expect(v.percent).toBe(50);
    const w = sut.view(
      run({
        filesTotal: 10,
        filesUnchanged: 8,
        filesCopied: 1,
        bytesTotal: 50 * MB,
        bytesCopied: 1 * MB,
        bytesUnchanged: 46 * MB,
      } as Partial<Run>),
    );
    expect(w.measure).toBe('bytes');
    expect(w.percent).toBe(25);
  });

  it('should never say 100 % before the run completed', () => {
    const sut = new ProgressTracker();
    expect(sut.view(run({ filesTotal: 1, bytesTotal: 1000, bytesCopied: 999 })).percent).toBe(99);
    expect(
      sut.view(run({ status: 'completed', phase: 'done', filesTotal: 1, bytesTotal: 1000 }))
        .percent,
    ).toBe(100);
  });

  it('should round time left so it does not flicker', () => {
    expect([3.2, 23, 61, 700].map(roughSeconds)).toEqual([4, 25, 90, 720]);
  });
});
