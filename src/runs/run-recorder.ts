import type { EntityManager } from 'typeorm';
import type { RunEventEntity } from '../tasks/entities/run-error.entity.js';
import type { RunEntity, RunPhase } from '../tasks/entities/run.entity.js';
import type { RunCounters, RunsRepository } from '../tasks/runs.repository.js';
import type { Clock } from '../common/clock.js';
import { ConnectorError } from '../connectors/connector.errors.js';
import {
  MAX_IN_FLIGHT_SHOWN,
  type InFlightFile,
  type RunEventsSink,
  type RunFinishedEvent,
} from './run-events.js';
import type { RunFinishHooks } from './run-finish-hooks.js';
import { describeError, FilesFailedError, RUN_OUTCOMES, type RunOutcome } from './run-outcome.js';

/** Counters, the run log and progress are written at most this often (forced at the end). */
const PROGRESS_FLUSH_MS = 1_000;
/** The run log keeps the first events in full; beyond this only counts grow. */
const MAX_LOGGED_EVENTS = 5_000;
/** Error lines the final event carries (the mail lists them). */
const FIRST_ERRORS = 10;

export type RunLogLevel = RunEventEntity['level'];

/** Holds a paused run between files until it is resumed (or cancelled). */
export interface RunPauseGate {
  /**
   * Before this node executes a run: learns of a pause made while another node held it (a
   * cluster keeps pauses in Redis, so a run taken over from a dead worker stays paused).
   */
  adopt?(runId: string): Promise<void>;
  isPaused(runId: string): boolean;
  /** Resolves when the run is resumed or cancelled, or the signal fires. */
  waitWhilePaused(runId: string, signal: AbortSignal): Promise<void>;
}

/**
 * What an executor reports through. Counters are plain fields (`recorder.counters.filesTotal++`)
 * or `count`; everything else is a method, so the recorder decides when rows are written.
 */
export interface RunRecorder {
  readonly runId: string;
  readonly counters: RunCounters;
  /** The run is in a new phase ('planning', 'transferring', 'committing', ...); written at once. */
  phase(phase: RunPhase): Promise<void>;
  /** The version this run writes (a backup) or reads (a restore). */
  setVersion(versionId: string): Promise<void>;
  count(counter: keyof RunCounters, by?: number): void;
  /**
   * Bytes moved inside a file (negative to take back the bytes of a failed attempt); with the
   * path of a file announced by `fileStarted`, that file's own progress moves too.
   */
  addBytes(n: number, path?: string): void;
  /** A file's copy starts: it is listed in the progress events until `fileEnded`. */
  fileStarted(path: string, size: number | null): void;
  fileEnded(path: string): void;
  info(message: string, path?: string | null): void;
  /** Something the user should know that did not fail the file (a file gone mid-run, a refused cursor). */
  warn(message: string, path?: string | null, error?: unknown): void;
  /** One file failed for good: counted and logged; the run goes on. */
  fileFailed(path: string, error: unknown, message?: string): void;
  /** A retried fault: counted and logged at level 'retry'. */
  retry(label: string, error: unknown, delayMs: number): void;
  /**
   * Publishes counters and the pending log; throttled to once a second unless forced. Returns
   * undefined when nothing was due: executors call it after every file, and a promise per file
   * was measurable on a run of small files (issue #21).
   */
  progress(force: true): Promise<void>;
  progress(force?: boolean): Promise<void> | undefined;
  /** Between files: undefined at once (no promise per file), or a wait while the run is paused. */
  checkpoint(signal: AbortSignal): Promise<void> | undefined;
  /**
   * Writes the run's final row. With `em` the row is written in the caller's transaction (a
   * backup completes in the transaction that commits its version); the event is announced only
   * after the executor returns.
   */
  finish(outcome: RunOutcome, opts?: RunFinishOptions): Promise<void>;
}

export interface RunFinishOptions {
  message?: string | null;
  em?: EntityManager;
  /** The committed version was held by the deletion guard (carried by the final event). */
  held?: RunFinishedEvent['held'];
}

export interface RunRecorderDeps {
  runs: Pick<RunsRepository, 'update' | 'addEvents'>;
  events: RunEventsSink;
  clock: Clock;
  pauses?: RunPauseGate;
  /** Rules that follow a run's end (retention), run before the final event is announced. */
  finishHooks?: Pick<RunFinishHooks, 'run'>;
  /** Milliseconds for throttling only; wall time so that a test's frozen clock still flushes. */
  ticks?: () => number;
}

export function zeroCounters(): RunCounters {
  return {
    filesTotal: 0,
    filesCopied: 0,
    filesUnchanged: 0,
    filesFiltered: 0,
    filesFailed: 0,
    bytesTotal: 0,
    bytesCopied: 0,
    bytesUnchanged: 0,
    retries: 0,
  };
}

/**
 * The one place a run's row, log and events are written: counters, the event log (first 5,000
 * events), throttled progress, and the final status. Created per run by the dispatcher.
 */
export class RepositoryRunRecorder implements RunRecorder {
  readonly counters = zeroCounters();
  private pending: Array<Omit<RunEventEntity, 'id'>> = [];
  private logged = 0;
  private lastProgress = 0;
  private current: RunEntity;
  private final: RunEntity | undefined;
  private held: RunFinishedEvent['held'];
  private readonly firstErrors: Array<{ path: string | null; message: string }> = [];
  private announced = false;
  private pausing: Promise<void> | undefined;
  /** What finish hooks queued in the final row's transaction: done once it has committed. */
  private readonly afterCommit: Array<() => void> = [];
  private readonly inFlight = new Map<string, InFlightFile>();

  constructor(
    run: RunEntity,
    private readonly deps: RunRecorderDeps,
  ) {
    this.current = { ...run };
  }

  get runId(): string {
    return this.current.id;
  }

  /** The run as last written (the final row once finished). */
  get run(): RunEntity {
    return this.final ?? { ...this.current, ...this.counters };
  }

  get isFinished(): boolean {
    return this.final !== undefined;
  }

  async start(phase: RunPhase): Promise<void> {
    const startedAt = this.deps.clock.now();
    this.current = { ...this.current, status: 'running', phase, startedAt };
    await this.deps.runs.update(this.runId, { status: 'running', phase, startedAt });
    this.deps.events.runStarted({ ...this.current });
  }

  async phase(phase: RunPhase): Promise<void> {
    this.current.phase = phase;
    await this.deps.runs.update(this.runId, { phase });
  }

  async setVersion(versionId: string): Promise<void> {
    this.current.versionId = versionId;
    await this.deps.runs.update(this.runId, { versionId });
  }

  count(counter: keyof RunCounters, by = 1): void {
    this.counters[counter] += by;
  }

  addBytes(n: number, path?: string): void {
    this.counters.bytesCopied += n;
    const f = path === undefined ? undefined : this.inFlight.get(path);
    if (f) f.bytes = Math.max(0, f.bytes + n);
  }

  fileStarted(path: string, size: number | null): void {
    this.inFlight.set(path, { path, size, bytes: 0 });
  }

  fileEnded(path: string): void {
    this.inFlight.delete(path);
  }

  info(message: string, path: string | null = null): void {
    this.log('info', path, undefined, message);
  }

  warn(message: string, path: string | null = null, error?: unknown): void {
    this.log('warning', path, error, message);
  }

  fileFailed(path: string, error: unknown, message?: string): void {
    this.counters.filesFailed++;
    this.log('error', path, error, message);
  }

  retry(label: string, error: unknown, delayMs: number): void {
    this.counters.retries++;
    this.log('retry', null, error, `${label}: ${describeError(error)}; retrying in ${delayMs} ms`);
  }

  progress(force: true): Promise<void>;
  progress(force?: boolean): Promise<void> | undefined;
  progress(force = false): Promise<void> | undefined {
    const now = this.ticks();
    if (!force && now - this.lastProgress < PROGRESS_FLUSH_MS) return undefined;
    this.lastProgress = now;
    return this.publishProgress();
  }

  private async publishProgress(): Promise<void> {
    const files = [...this.inFlight.values()].slice(0, MAX_IN_FLIGHT_SHOWN).map((f) => ({ ...f }));
    this.deps.events.runProgress({
      runId: this.runId,
      taskId: this.current.taskId,
      ...this.counters,
      ...(files.length > 0 ? { files } : {}),
    });
    await this.deps.runs.update(this.runId, { ...this.counters });
    await this.flushEvents();
  }

  checkpoint(signal: AbortSignal): Promise<void> | undefined {
    const gate = this.deps.pauses;
    if (!gate?.isPaused(this.runId) || signal.aborted) return undefined;
    // K files finish together: the first to arrive shows the pause, all wait on the same one.
    this.pausing ??= (async () => {
      const before = this.current.phase;
      await this.phase('paused');
      await this.progress(true);
      try {
        await gate.waitWhilePaused(this.runId, signal);
      } finally {
        this.pausing = undefined;
        if (!signal.aborted) await this.phase(before);
      }
    })();
    return this.pausing;
  }

  async finish(outcome: RunOutcome, opts: RunFinishOptions = {}): Promise<void> {
    if (this.final) throw new Error(`run ${this.runId} is already ${this.final.status}`);
    // Outside a transaction the log goes first: listeners of the final event read it.
    if (!opts.em) await this.flushEvents();
    const patch = {
      ...this.counters,
      status: RUN_OUTCOMES[outcome].status,
      phase: 'done' as const,
      finishedAt: this.deps.clock.now(),
      errorMessage: opts.message ?? null,
    };
    await this.deps.runs.update(this.runId, patch, opts.em);
    this.final = { ...this.current, ...patch };
    this.held = opts.held;
    const em = opts.em;
    await this.deps.finishHooks?.run(
      { ...this.final },
      em ? { em, afterCommit: (fn) => this.afterCommit.push(fn) } : undefined,
    );
  }

  /**
   * The executor threw: the run is cancelled when its signal fired (unless the error says files
   * failed), failed otherwise. Counters and the log are flushed first.
   */
  async fail(
    error: unknown,
    signal: AbortSignal,
  ): Promise<{ cancelled: boolean; message: string }> {
    const cancelled = signal.aborted && !(error instanceof FilesFailedError);
    const message = cancelled ? 'cancelled by the user' : describeError(error);
    await this.progress(true).catch(() => undefined);
    await this.finish(cancelled ? 'cancelled' : 'failed', { message });
    return { cancelled, message };
  }

  /** Writes the pending log (at most 5,000 events per run reach it). */
  async flushEvents(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    await this.deps.runs.addEvents(events);
  }

  /** Announces the final row once (after any transaction that wrote it has committed). */
  announce(): void {
    if (!this.final || this.announced) return;
    this.announced = true;
    for (const fn of this.afterCommit.splice(0)) fn();
    this.deps.events.runFinished({
      ...this.final,
      firstErrors: [...this.firstErrors],
      ...(this.held ? { held: this.held } : {}),
    });
  }

  private log(level: RunLogLevel, path: string | null, error: unknown, message?: string): void {
    if (this.logged >= MAX_LOGGED_EVENTS) return;
    this.logged++;
    const text = message ?? describeError(error);
    if (level === 'error' && this.firstErrors.length < FIRST_ERRORS)
      this.firstErrors.push({ path, message: text });
    this.pending.push({
      runId: this.runId,
      level,
      path,
      code: error instanceof ConnectorError ? error.code : null,
      message: text,
      at: this.deps.clock.now(),
    });
  }

  private ticks(): number {
    return (this.deps.ticks ?? Date.now)();
  }
}
