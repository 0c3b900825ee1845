import type { Run } from './api.js';

/**
 * Live progress, measured in bytes: what the run page shows. Listing the source is its own phase
 * (the totals still grow, so no percentage and no time left); after it, the percentage is bytes
 * copied of bytes to copy, and speed and time left are smoothed over the last seconds so they
 * do not jump with every flush of the counters.
 */

export const FINAL = new Set(['completed', 'warning', 'failed', 'offline', 'cancelled', 'skipped']);

export type ProgressPhase = 'queued' | 'listing' | 'copying' | 'paused' | 'finishing' | 'done';

export interface ProgressView {
  phase: ProgressPhase;
  /** Null while the total is not known yet (listing) or nothing is to be copied. */
  percent: number | null;
  /** What the percentage counts: bytes, or files when the bytes to copy are unknown. */
  measure: 'bytes' | 'files';
  bytesDone: number;
  /** Bytes this run has to copy (the listed bytes less the unchanged ones), when known. */
  bytesToCopy: number | null;
  filesFound: number;
  filesDone: number;
  filesToCopy: number;
  bytesPerSecond: number | null;
  secondsLeft: number | null;
}

/** Window of the speed average; long enough to ride over one big file's flush gap. */
const WINDOW_MS = 10_000;
/** Speed and time left show only after this much copying: earlier they are noise. */
const MIN_SPAN_MS = 2_000;
/** Weight of a new measurement in the time-left average. */
const ALPHA = 0.3;

export class ProgressTracker {
  private samples: { t: number; bytes: number }[] = [];
  private smoothedLeft: number | null = null;
  /** Bytes per second over the run, one point per sample: the throughput chart. */
  readonly history: { t: number; bps: number }[] = [];

  view(run: Run, now = Date.now()): ProgressView {
    const done = FINAL.has(run.status);
    const phase: ProgressPhase = done
      ? 'done'
      : run.status === 'queued' || run.phase === 'queued'
        ? 'queued'
        : run.phase === 'planning'
          ? 'listing'
          : run.phase === 'paused'
            ? 'paused'
            : run.phase === 'committing'
              ? 'finishing'
              : 'copying';
    const filesDone = run.filesCopied + run.filesFailed;
    const filesToCopy = Math.max(0, run.filesTotal - run.filesUnchanged);
    // The unchanged files' bytes are known only when the server counts them (runs stored before
    // it did say 0 beside unchanged files).
    const unchangedKnown =
      run.bytesUnchanged !== undefined && (run.bytesUnchanged > 0 || run.filesUnchanged === 0);
    const bytesToCopy = unchangedKnown
      ? Math.max(0, run.bytesTotal - run.bytesUnchanged!)
      : run.filesUnchanged === 0 || run.kind === 'restore'
        ? run.bytesTotal
        : null;
    const measure = bytesToCopy !== null ? 'bytes' : 'files';

    let percent: number | null = null;
    if (run.status === 'completed') percent = 100;
    else if (phase === 'copying' || phase === 'paused' || phase === 'finishing' || done) {
      if (measure === 'bytes' && bytesToCopy! > 0) percent = (run.bytesCopied / bytesToCopy!) * 100;
      else if (measure === 'files' && filesToCopy > 0) percent = (filesDone / filesToCopy) * 100;
      else if (phase !== 'copying') percent = 100;
      else percent = filesToCopy === 0 ? 100 : 0;
    }

    // Speed over the window; samples of the same byte count still move the window on.
    this.samples.push({ t: now, bytes: run.bytesCopied });
    while (this.samples.length > 2 && now - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const span = now - first.t;
    let bytesPerSecond: number | null = null;
    if (!done && phase !== 'queued' && span >= MIN_SPAN_MS) {
      bytesPerSecond = ((run.bytesCopied - first.bytes) * 1000) / span;
      this.history.push({ t: now, bps: bytesPerSecond });
    }
    let secondsLeft: number | null = null;
    if (phase === 'copying' && bytesPerSecond && bytesPerSecond > 0 && bytesToCopy !== null) {
      const raw = Math.max(0, bytesToCopy - run.bytesCopied) / bytesPerSecond;
      this.smoothedLeft =
        this.smoothedLeft === null ? raw : ALPHA * raw + (1 - ALPHA) * this.smoothedLeft;
      secondsLeft = this.smoothedLeft;
    } else if (phase !== 'copying') this.smoothedLeft = null;

    return {
      phase,
      percent: percent === null ? null : Math.min(100, Math.max(0, Math.floor(percent))),
      measure,
      bytesDone: run.bytesCopied,
      bytesToCopy,
      filesFound: run.filesTotal,
      filesDone,
      filesToCopy,
      bytesPerSecond,
      secondsLeft,
    };
  }
}

/** "about 20 s", rounded so it does not flicker by a second each tick. */
export function roughSeconds(s: number): number {
  if (s < 10) return Math.ceil(s);
  if (s < 60) return Math.ceil(s / 5) * 5;
  if (s < 600) return Math.ceil(s / 30) * 30;
  return Math.ceil(s / 60) * 60;
}
