import type { RunPhase } from '../../src/tasks/entities/run.entity.js';
import type { RunCounters } from '../../src/tasks/runs.repository.js';
import { describeError, type RunOutcome } from '../../src/runs/run-outcome.js';
import {
  zeroCounters,
  type RunFinishOptions,
  type RunRecorder,
} from '../../src/runs/run-recorder.js';

export interface RecordedLine {
  level: 'info' | 'warning' | 'error' | 'retry';
  path: string | null;
  message: string;
  error?: unknown;
}

/** A recorder that keeps everything in memory, for executor unit tests. */
export class FakeRunRecorder implements RunRecorder {
  readonly counters: RunCounters = zeroCounters();
  readonly phases: RunPhase[] = [];
  readonly lines: RecordedLine[] = [];
  versionId: string | undefined;
  progressCalls = 0;
  checkpoints = 0;
  finished:
    | {
        outcome: RunOutcome;
        message: string | null;
        inTransaction: boolean;
        held?: RunFinishOptions['held'];
      }
    | undefined;

  constructor(readonly runId = 'run-1') {}

  phase(phase: RunPhase): Promise<void> {
    this.phases.push(phase);
    return Promise.resolve();
  }

  setVersion(versionId: string): Promise<void> {
    this.versionId = versionId;
    return Promise.resolve();
  }

  count(counter: keyof RunCounters, by = 1): void {
    this.counters[counter] += by;
  }

  readonly inFlight = new Map<string, { size: number | null; bytes: number }>();
  /** Every file announced in flight, in order. */
  readonly started: string[] = [];

  addBytes(n: number, path?: string): void {
    this.counters.bytesCopied += n;
    const f = path === undefined ? undefined : this.inFlight.get(path);
    if (f) f.bytes += n;
  }

  fileStarted(path: string, size: number | null): void {
    this.started.push(path);
    this.inFlight.set(path, { size, bytes: 0 });
  }

  fileEnded(path: string): void {
    this.inFlight.delete(path);
  }

  info(message: string, path: string | null = null): void {
    this.lines.push({ level: 'info', path, message });
  }

  warn(message: string, path: string | null = null, error?: unknown): void {
    this.lines.push({ level: 'warning', path, message, error });
  }

  fileFailed(path: string, error: unknown, message?: string): void {
    this.counters.filesFailed++;
    this.lines.push({ level: 'error', path, message: message ?? describeError(error), error });
  }

  retry(label: string, error: unknown, _delayMs: number): void {
    this.counters.retries++;
    this.lines.push({ level: 'retry', path: null, message: label, error });
  }

  progress(): Promise<void> {
    this.progressCalls++;
    return Promise.resolve();
  }

  checkpoint(): Promise<void> {
    this.checkpoints++;
    return Promise.resolve();
  }

  finish(outcome: RunOutcome, opts: RunFinishOptions = {}): Promise<void> {
    if (this.finished) throw new Error('finished twice');
    this.finished = {
      outcome,
      message: opts.message ?? null,
      inTransaction: !!opts.em,
      ...(opts.held ? { held: opts.held } : {}),
    };
    return Promise.resolve();
  }

  linesAt(level: RecordedLine['level']): RecordedLine[] {
    return this.lines.filter((l) => l.level === level);
  }
}
