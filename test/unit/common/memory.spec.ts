/**
 * Issue #21: while runs execute, resident memory over the budget's margin gets a full GC, at
 * most every two seconds; nothing is watched between runs.
 */
import { jest } from '@jest/globals';
import { RSS_FULL_GC_BYTES, runUnderHeapWatch } from '../../../src/common/memory.js';

describe('runUnderHeapWatch', () => {
  const g = globalThis as { gc?: () => void };
  const realGc = g.gc;
  let rss: number;
  let gc: jest.Mock<() => void>;

  beforeEach(() => {
    jest.useFakeTimers();
    gc = jest.fn<() => void>();
    g.gc = gc;
    rss = RSS_FULL_GC_BYTES + 1;
    jest.spyOn(process.memoryUsage, 'rss').mockImplementation(() => rss);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    g.gc = realGc;
  });

  /** A run that lasts `ms` of fake time. */
  const runFor = (ms: number) =>
    runUnderHeapWatch(() => new Promise<string>((done) => setTimeout(() => done('ran'), ms)));

  it('should collect the heap over the threshold, at most every two seconds, while a run lasts', async () => {
    const run = runFor(4_200);
    await jest.advanceTimersByTimeAsync(4_200);

    await expect(run).resolves.toBe('ran');
    // Checks every 500 ms: a GC at 0.5 s, 2.5 s and 4.5 s would be due; the run ended at 4.2 s.
    expect(gc).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(gc).toHaveBeenCalledTimes(2); // nothing watched once no run executes
  });

  it('should leave the heap alone under the threshold', async () => {
    rss = RSS_FULL_GC_BYTES - 1;
    const run = runFor(3_000);
    await jest.advanceTimersByTimeAsync(3_000);

    await run;
    expect(gc).not.toHaveBeenCalled();
  });

  it('should keep watching while another run still executes', async () => {
    const short = runFor(600);
    const long = runFor(5_000);
    await jest.advanceTimersByTimeAsync(600);
    await short;
    gc.mockClear();

    await jest.advanceTimersByTimeAsync(4_400);
    await long;

    expect(gc).toHaveBeenCalled();
  });

  it('should pass a failed run on, and run without a watch when gc is not exposed', async () => {
    g.gc = undefined;
    await expect(runUnderHeapWatch(() => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    g.gc = gc;
    await expect(runUnderHeapWatch(() => Promise.reject(new Error('again')))).rejects.toThrow(
      'again',
    );
    await jest.advanceTimersByTimeAsync(5_000);
    expect(gc).not.toHaveBeenCalled();
  });
});
