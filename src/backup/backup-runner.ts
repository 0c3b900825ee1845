import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock.js';
import type { BackupConfig } from '../config/app-config.js';
import type { Connector } from '../connectors/connector.js';
import {
  AuthExpiredError,
  ConnectorError,
  FatalError,
  isAbortError,
  isRetryable,
  QuotaExceededError,
} from '../connectors/connector.errors.js';
import type { RetryEvent } from '../connectors/pacer/pacer.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../connectors/pacer/backoff.js';
import { joinPath } from '../connectors/path.js';
import type { StoredFile } from '../versions/version-ledger.repository.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { RunEventEntity } from './entities/run-error.entity.js';
import type { RunEntity } from './entities/run.entity.js';
import type { TaskEntity } from './entities/task.entity.js';
import { isUnchanged } from './plan/change-detection.js';
import { ExtensionFilter } from './plan/extension-filter.js';
import { SourcePlanner } from './plan/source-planner.js';
import type { WalkedFile } from './plan/walk.js';
import type { RunEventsSink } from './run-events.js';
import type { RunsRepository } from './runs.repository.js';
import type { TasksRepository } from './tasks.repository.js';
import { runPool } from './transfer/pool.js';
import { SourceGoneError, transferFile } from './transfer/transfer-file.js';

/** Opens connectors for accounts; the engine never knows which concrete cloud it talks to. */
export interface ConnectorProvider {
  open(accountId: string, opts: { onRetry?: (e: RetryEvent) => void }): Promise<Connector>;
  noteConnectorFailure(accountId: string, error: unknown): Promise<void>;
  noteConnectorSuccess(accountId: string): Promise<void>;
}

/** Source paths resolved against the ledger per batch: one indexed query per 200 files. */
const PLAN_BATCH = 200;
/** Stored-file records are written in batches: fewer transactions, at most this many re-copied after a crash. */
const RECORD_BATCH = 20;
const RECORD_FLUSH_MS = 250;
const PROGRESS_FLUSH_MS = 1_000;
/** The run log keeps the first errors in full; beyond this only counts grow. */
const MAX_LOGGED_EVENTS = 5_000;

/** Errors that no other file of the run can escape either: stop the run at once. */
function isRunFatal(e: unknown): boolean {
  return e instanceof AuthExpiredError || e instanceof QuotaExceededError;
}

class RunAbortedByError extends Error {}

/**
 * Executes one backup run: plan (walk, filter, diff against the ledger), transfer K files at a
 * time, record each verified file, then commit the version (manifest on the target first, then
 * the ledger in one transaction). A run that fails or is cancelled leaves its version partial,
 * never complete.
 */
/** Executes runs of a kind other than 'backup' (restore, prune). */
export interface RunKindExecutor {
  execute(run: RunEntity, signal: AbortSignal): Promise<void>;
}

export class BackupRunner {
  private readonly logger = new Logger('BackupRunner');
  private readonly otherKinds = new Map<string, RunKindExecutor>();

  /** Wired at start-up; a run whose kind has no executor fails loudly. */
  registerKind(kind: 'restore' | 'prune', executor: RunKindExecutor): void {
    this.otherKinds.set(kind, executor);
  }

  constructor(
    private readonly runs: RunsRepository,
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly connectors: ConnectorProvider,
    private readonly events: RunEventsSink,
    private readonly clock: Clock,
    private readonly config: BackupConfig,
  ) {}

  async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.runs.findById(runId);
    if (!run) throw new Error(`run ${runId} vanished before it started`);
    // A job delivered again after its run finished (cluster redelivery): nothing left to do.
    if (run.status !== 'queued' && run.status !== 'running') return;
    if (run.status === 'running') {
      // An earlier attempt died mid-run (its worker was killed; BullMQ handed the job on). What it
      // stored and recorded stays as a partial version, which this attempt reuses.
      const n = await this.versions.markRunVersionsPartial(run.id);
      this.logger.warn(
        `run ${run.id} resumed after an interrupted attempt (${n} version(s) partial)`,
      );
    }
    if (run.kind !== 'backup') {
      // Restore and prune runs share the queue, the one-run-per-task rule and the run record.
      const executor = this.otherKinds.get(run.kind);
      if (!executor) throw new Error(`no executor for runs of kind '${run.kind}'`);
      await executor.execute(run, signal);
      return;
    }
    const task = await this.tasks.findById(run.taskId);
    if (!task) {
      await this.finish(run, 'failed', `task ${run.taskId} was deleted before the run started`);
      return;
    }
    await new BackupExecution(this, run, task, signal).execute();
  }

  /** @internal used by the execution */
  get deps() {
    return {
      runs: this.runs,
      tasks: this.tasks,
      versions: this.versions,
      connectors: this.connectors,
      events: this.events,
      clock: this.clock,
      config: this.config,
      logger: this.logger,
    };
  }

  async finish(run: RunEntity, status: 'failed' | 'cancelled', message: string): Promise<void> {
    const patch = {
      status,
      phase: 'done' as const,
      errorMessage: message,
      finishedAt: this.clock.now(),
    };
    await this.runs.update(run.id, patch);
    this.events.runFinished({ ...run, ...patch });
  }
}

class BackupExecution {
  private readonly d: BackupRunner['deps'];
  private readonly counters = {
    filesTotal: 0,
    filesCopied: 0,
    filesUnchanged: 0,
    filesFiltered: 0,
    filesFailed: 0,
    bytesTotal: 0,
    bytesCopied: 0,
    retries: 0,
  };
  private readonly seen = new Set<string>();
  private pendingRecords: StoredFile[] = [];
  private pendingEvents: Array<Omit<RunEventEntity, 'id'>> = [];
  private loggedEvents = 0;
  private lastRecordFlush = 0;
  private lastProgressFlush = 0;
  private storedByThisRun = 0;
  private fatal: unknown;
  private planner: SourcePlanner | undefined;

  constructor(
    runner: BackupRunner,
    private readonly run: RunEntity,
    private readonly task: TaskEntity,
    private readonly signal: AbortSignal,
  ) {
    this.d = runner.deps;
    this.finishRun = runner.finish.bind(runner);
  }

  private readonly finishRun: BackupRunner['finish'];

  async execute(): Promise<void> {
    const { runs, versions, clock } = this.d;
    const startedAt = clock.now();
    await runs.update(this.run.id, { status: 'running', phase: 'planning', startedAt });
    this.d.events.runStarted({ ...this.run, status: 'running', startedAt });

    let source: Connector | undefined;
    let target: Connector | undefined;
    let version: { id: string; seq: number; storageFolder: string } | undefined;
    try {
      const onRetry = (e: RetryEvent) => this.noteRetry(e.label, e.error, e.delayMs);
      source = await this.d.connectors.open(this.task.sourceAccountId, { onRetry });
      target = await this.d.connectors.open(this.task.targetAccountId, { onRetry });
      if (!target.capabilities.writable) {
        throw new FatalError(
          `the target account (${target.kind}) cannot be written to` +
            (target.capabilities.readOnlyReason ? `: ${target.capabilities.readOnlyReason}` : ''),
        );
      }
      version = await versions.beginVersion(this.task, this.run.id, clock.now());
      await runs.update(this.run.id, { versionId: version.id });

      const v = version;
      const src = source;
      const tgt = target;
      const planner = new SourcePlanner(
        src,
        this.task.sourcePath,
        this.task.changeCursor,
        this.signal,
      );
      this.planner = planner;
      await runPool(this.plan(planner), this.task.concurrency, (item) =>
        this.copyOne(src, tgt, v, item),
      );
      if (planner.cursorWasRefused) {
        this.logEvent(
          'warning',
          null,
          undefined,
          'the stored change cursor was refused by the source; listed everything instead',
        );
      }
      await this.flushRecords(v.seq, true);
      await this.flushProgress(true);

      if (this.fatal) throw this.fatal;
      if (this.signal.aborted) throw this.signal.reason ?? new Error('cancelled');
      if (this.counters.filesFailed > 0) {
        throw new RunAbortedByError(
          `${this.counters.filesFailed} file(s) could not be copied; the version stays partial and the next run retries them`,
        );
      }
      await runs.update(this.run.id, { phase: 'committing' });
      await versions.commitVersion(
        this.task,
        v,
        tgt,
        planner.mode === 'changes'
          ? { deletedPaths: planner.deletedPaths() }
          : { isSeen: (p) => this.seen.has(p) },
        async (em) => {
          await this.d.tasks.saveChangeCursor(this.task.id, planner.cursor ?? null, em);
          await runs.update(
            this.run.id,
            {
              status: 'completed',
              phase: 'done',
              finishedAt: clock.now(),
              errorMessage: null,
              ...this.counters,
            },
            em,
          );
        },
      );
      await this.d.connectors.noteConnectorSuccess(this.task.sourceAccountId);
      this.d.events.runFinished({
        ...this.run,
        ...this.counters,
        status: 'completed',
        phase: 'done',
        finishedAt: clock.now(),
      });
    } catch (e) {
      await this.fail(e, version);
    } finally {
      await this.flushEvents().catch(() => undefined);
      await source?.close?.().catch(() => undefined);
      await target?.close?.().catch(() => undefined);
    }
  }

  private async fail(e: unknown, version: { id: string; seq: number } | undefined): Promise<void> {
    const error = this.fatal ?? e;
    const cancelled = this.signal.aborted && !(error instanceof RunAbortedByError);
    if (version) {
      await this.flushRecords(version.seq, true).catch(() => undefined);
      await this.d.versions.abandonVersion(version.id, this.storedByThisRun > 0);
    }
    if (error instanceof ConnectorError) {
      await this.d.connectors.noteConnectorFailure(this.task.sourceAccountId, error);
      await this.d.connectors.noteConnectorFailure(this.task.targetAccountId, error);
    }
    const message = cancelled ? 'cancelled by the user' : describeError(error);
    if (!cancelled && !(error instanceof RunAbortedByError)) {
      this.d.logger.warn(`run ${this.run.id} of task ${this.task.id} failed: ${message}`);
    }
    await this.flushProgress(true).catch(() => undefined);
    await this.d.runs.update(this.run.id, { ...this.counters });
    await this.finishRun(
      { ...this.run, ...this.counters },
      cancelled ? 'cancelled' : 'failed',
      message,
    );
  }

  /** Walks the source, filters, and yields only what must be copied; pulled by the pool. */
  private async *plan(planner: SourcePlanner): AsyncGenerator<WalkedFile> {
    const filter = new ExtensionFilter(this.task.filterMode, this.task.filterExtensions);
    let batch: WalkedFile[] = [];
    for await (const f of planner.files()) {
      if (this.fatal || this.signal.aborted) return;
      if (!filter.accepts(f.rel)) {
        this.counters.filesFiltered++;
        continue;
      }
      if (this.seen.has(f.rel)) continue; // a provider listing the same path twice
      this.seen.add(f.rel);
      this.counters.filesTotal++;
      this.counters.bytesTotal += f.entry.size ?? 0;
      batch.push(f);
      if (batch.length >= PLAN_BATCH) {
        yield* await this.resolve(batch);
        batch = [];
      }
    }
    yield* await this.resolve(batch);
    await this.runsPhase('transferring');
  }

  private async resolve(batch: WalkedFile[]): Promise<WalkedFile[]> {
    if (batch.length === 0) return [];
    const live = await this.d.versions.findCurrentFiles(
      this.task.id,
      batch.map((f) => f.rel),
    );
    const out: WalkedFile[] = [];
    for (const f of batch) {
      const stored = live.get(f.rel);
      if (stored && isUnchanged(stored, f.entry)) this.counters.filesUnchanged++;
      else out.push(f);
    }
    await this.flushProgress(false);
    return out;
  }

  private async copyOne(
    source: Connector,
    target: Connector,
    version: { seq: number; storageFolder: string },
    item: WalkedFile,
  ): Promise<void> {
    if (this.fatal || this.signal.aborted) return;
    const storedPath = joinPath(version.storageFolder, item.rel);
    const sourcePath = item.entry.path;
    for (let attempt = 1; ; attempt++) {
      let sent = 0;
      try {
        const res = await transferFile({
          source,
          sourcePath,
          target,
          targetPath: storedPath,
          expectedSize: item.entry.size,
          modifiedAt: item.entry.modifiedAt,
          signal: this.signal,
          onBytes: (n) => {
            sent += n;
            this.counters.bytesCopied += n;
          },
        });
        this.counters.filesCopied++;
        this.storedByThisRun++;
        this.pendingRecords.push({
          path: item.rel,
          size: res.size,
          sha256: res.sha256,
          sourceHashes: item.entry.hashes,
          sourceId: item.entry.id ?? null,
          modifiedAt: item.entry.modifiedAt ?? null,
          storedPath,
        });
        break;
      } catch (e) {
        this.counters.bytesCopied -= sent;
        if (this.signal.aborted || isAbortError(e)) return;
        if (e instanceof SourceGoneError) {
          this.counters.filesTotal--;
          this.counters.bytesTotal -= item.entry.size ?? 0;
          this.seen.delete(item.rel);
          this.planner?.markVanished(item.rel);
          this.logEvent(
            'warning',
            sourcePath,
            e,
            `${sourcePath}: deleted at the source during the run; not in this version`,
          );
          return;
        }
        if (isRunFatal(e)) {
          this.fatal ??= e;
          return;
        }
        if (isRetryable(e) && attempt < this.d.config.fileAttempts) {
          const delayMs = backoffDelay(
            DEFAULT_BACKOFF,
            attempt,
            (e as { retryAfterMs?: number }).retryAfterMs,
          );
          this.noteRetry(`copy ${sourcePath} (attempt ${attempt + 1})`, e, delayMs);
          await this.d.clock.sleep(delayMs, this.signal).catch(() => undefined);
          continue;
        }
        this.counters.filesFailed++;
        this.logEvent('error', sourcePath, e);
        return;
      }
    }
    // The bytes are safely stored; a failure to record them is the ledger's, and ends the run.
    try {
      await this.flushRecords(version.seq, false);
      await this.flushProgress(false);
    } catch (e) {
      this.fatal ??= e;
    }
  }

  private noteRetry(label: string, error: unknown, delayMs: number): void {
    this.counters.retries++;
    this.logEvent(
      'retry',
      null,
      error,
      `${label}: ${describeError(error)}; retrying in ${delayMs} ms`,
    );
  }

  private logEvent(
    level: RunEventEntity['level'],
    path: string | null,
    error: unknown,
    message?: string,
  ): void {
    if (this.loggedEvents >= MAX_LOGGED_EVENTS) return;
    this.loggedEvents++;
    this.pendingEvents.push({
      runId: this.run.id,
      level,
      path,
      code: error instanceof ConnectorError ? error.code : null,
      message: message ?? describeError(error),
      at: this.d.clock.now(),
    });
  }

  private async flushRecords(seq: number, force: boolean): Promise<void> {
    const now = Date.now();
    if (
      !force &&
      this.pendingRecords.length < RECORD_BATCH &&
      now - this.lastRecordFlush < RECORD_FLUSH_MS
    )
      return;
    this.lastRecordFlush = now;
    const batch = this.pendingRecords;
    this.pendingRecords = [];
    await this.d.versions.recordStoredFiles(this.task.id, seq, batch);
  }

  private async flushProgress(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastProgressFlush < PROGRESS_FLUSH_MS) return;
    this.lastProgressFlush = now;
    this.d.events.runProgress({ runId: this.run.id, taskId: this.task.id, ...this.counters });
    await this.d.runs.update(this.run.id, { ...this.counters });
    await this.flushEvents();
  }

  private async flushEvents(): Promise<void> {
    const events = this.pendingEvents;
    this.pendingEvents = [];
    await this.d.runs.addEvents(events);
  }

  private async runsPhase(phase: RunEntity['phase']): Promise<void> {
    await this.d.runs.update(this.run.id, { phase });
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
