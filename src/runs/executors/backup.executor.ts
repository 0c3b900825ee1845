import type { Clock } from '../../common/clock.js';
import type { BackupConfig } from '../../config/app-config.js';
import { canCopyBatch, flushWrites, hasPartialCleaner } from '../../connectors/capabilities.js';
import type { Connector } from '../../connectors/connector.js';
import {
  ConnectorError,
  FatalError,
  SourceOfflineError,
  TargetOfflineError,
} from '../../connectors/connector.errors.js';
import type { RetryEvent } from '../../connectors/pacer/pacer.js';
import { joinPath } from '../../connectors/path.js';
import { deletionThresholdsOf } from '../../versions/deletion-guard.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { RunEntity } from '../../tasks/entities/run.entity.js';
import type { TaskEntity } from '../../tasks/entities/task.entity.js';
import { SourcePlanner } from '../../backup/plan/source-planner.js';
import type { WalkedFile } from '../../backup/plan/walk.js';
import type { TasksRepository } from '../../tasks/tasks.repository.js';
import type { UploadSessionStore } from '../../tasks/upload-sessions.repository.js';
import { UploadSessionBook } from '../../backup/transfer/upload-session-book.js';
import type { TargetFolderIds } from '../../tasks/target-folders.repository.js';
import { runPoolOverBatches } from '../../backup/transfer/pool.js';
import { assertRunRootsPresent } from '../../backup/plan/root-presence.js';
import { classifyFileError, isRunStopping } from '../../backup/transfer/error-policy.js';
import { transferFile } from '../../backup/transfer/transfer-file.js';
import { withFileRetries } from '../../backup/transfer/with-retries.js';
import { BatchCopies } from './backup-batches.js';
import { planCopies, reportListingGaps } from './backup-plan.js';
import { PendingRecords } from './backup-records.js';
import { BackupTargetFolders } from './backup-target-folders.js';
import type { ConnectorProvider } from '../connector-provider.js';
import type { RunExecutor } from '../run-executor.js';
import type { RunRecorder } from '../run-recorder.js';

type Tasks = Pick<TasksRepository, 'findById' | 'saveChangeCursor'>;
type Versions = Pick<
  VersionsService,
  | 'beginVersion'
  | 'commitVersion'
  | 'abandonVersion'
  | 'findCurrentFiles'
  | 'recordStoredFiles'
  | 'hasVersionsOnTarget'
  | 'interruptedStorageFolders'
>;

/**
 * Backup runs: check that source and target are there, plan (walk, filter, diff against the
 * ledger), transfer K files at a time, record each verified file, then commit the version
 * (manifest on the target first, then the ledger and the run's completion in one transaction).
 * A missing source or target ends the run 'offline' before anything is written. One bad file is
 * skipped and listed (the run ends 'warning'); only expired credentials, a full target or an
 * offline side stop a run. A version the deletion guard holds ends the run 'warning' too. A run
 * that fails or is cancelled leaves its version partial, never complete.
 */
export class BackupExecutor implements RunExecutor {
  readonly kind = 'backup' as const;

  constructor(
    private readonly tasks: Tasks,
    private readonly versions: Versions,
    private readonly connectors: ConnectorProvider,
    private readonly clock: Clock,
    private readonly config: Pick<BackupConfig, 'fileAttempts'>,
    /**
     * State kept about the target between runs (optional in unit tests): large uploads in
     * flight, so a crash mid-file resumes; the id of the task's target folder, so one deleted
     * and made again is not taken for the folder holding the earlier versions.
     */
    private readonly targetState: {
      uploads?: UploadSessionStore;
      folderIds?: TargetFolderIds;
    } = {},
  ) {}

  async execute(run: RunEntity, recorder: RunRecorder, signal: AbortSignal): Promise<void> {
    const task = await this.tasks.findById(run.taskId);
    if (!task) throw new FatalError(`task ${run.taskId} was deleted before the run started`);
    await new BackupExecution(
      this.tasks,
      this.versions,
      this.connectors,
      this.clock,
      this.config,
      { run, task, recorder, signal },
      this.targetState,
    ).execute();
  }
}

/** The state of one backup run: what it has seen, what it stored and has yet to record. */
class BackupExecution {
  private readonly run: RunEntity;
  private readonly task: TaskEntity;
  private readonly rec: RunRecorder;
  private readonly signal: AbortSignal;
  private readonly seen = new Set<string>();
  /** Stored, verified, not yet covered by a barrier: not in the ledger yet. */
  private records: PendingRecords | undefined;
  private storedByThisRun = 0;
  /** A batch copy was cancelled in flight: files of it may be on the target, unrecorded. */
  private batchInterrupted = false;
  /** The small files' batch copies, when the target can copy from the source (issue #21). */
  private batches: BatchCopies | undefined;
  /**
   * Files handed to copyOne or a batch copy, and those that ended stored, skipped with an error, or vanished.
   * Before a commit the two must agree: a file that ended any other way (a bug like the stray
   * AbortError once taken for a cancel) would leave a silent gap in a `completed` version.
   */
  private handedOut = 0;
  private accountedFor = 0;
  private fatal: unknown;
  private planner: SourcePlanner | undefined;
  /** Upload sessions earlier attempts left, by the file's path in the task's source folder. */
  private readonly uploadBook: UploadSessionBook;
  private readonly folderIds: TargetFolderIds | undefined;
  private folders: BackupTargetFolders | undefined;
  /** The version's storage folder is watched from its first stored file on (see copyOne). */
  private storageFolderWatched = false;

  constructor(
    private readonly tasks: Tasks,
    private readonly versions: Versions,
    private readonly connectors: ConnectorProvider,
    private readonly clock: Clock,
    private readonly config: Pick<BackupConfig, 'fileAttempts'>,
    ctx: { run: RunEntity; task: TaskEntity; recorder: RunRecorder; signal: AbortSignal },
    targetState: { uploads?: UploadSessionStore; folderIds?: TargetFolderIds },
  ) {
    this.uploadBook = new UploadSessionBook(
      targetState.uploads,
      ctx.task,
      this.clock,
      ctx.recorder,
    );
    this.folderIds = targetState.folderIds;
    this.run = ctx.run;
    this.task = ctx.task;
    this.rec = ctx.recorder;
    this.signal = ctx.signal;
  }

  async execute(): Promise<void> {
    const { task, rec } = this;
    let source: Connector | undefined;
    let target: Connector | undefined;
    let version: { id: string; seq: number; storageFolder: string } | undefined;
    try {
      const onRetry = (e: RetryEvent) => rec.retry(e.label, e.error, e.delayMs);
      source = await this.connectors.open(task.sourceAccountId, { onRetry });
      target = await this.connectors.open(task.targetAccountId, { onRetry });
      if (!target.capabilities.writable) {
        throw new FatalError(
          `the target account (${target.kind}) cannot be written to` +
            (target.capabilities.readOnlyReason ? `: ${target.capabilities.readOnlyReason}` : ''),
        );
      }
      // Nothing is written before both sides are known to be there (issue 18, item 1).
      await assertRunRootsPresent(
        {
          source,
          sourcePath: task.sourcePath,
          target,
          targetPath: task.targetPath,
          targetHoldsVersions: await this.versions.hasVersionsOnTarget(task.id),
        },
        { signal: this.signal },
      );
      await this.removeLeftovers(target);
      this.folders = await BackupTargetFolders.open(
        target,
        task,
        this.folderIds,
        this.clock,
        this.signal,
      );
      await this.uploadBook.load();
      version = await this.versions.beginVersion(task, this.run.id, this.clock.now());
      await rec.setVersion(version.id);

      const v = version;
      const src = source;
      const tgt = target;
      this.records = new PendingRecords(
        async (batch) => {
          // No signal: a cancelled run still records what it stored, for the next run to reuse.
          await flushWrites(tgt);
          await this.versions.recordStoredFiles(task.id, v.seq, batch);
        },
        (e) => {
          this.fatal ??= e;
        },
      );
      // A task that reads back every copy gets none in a batch (the copier has no read-back).
      if (canCopyBatch(tgt, src) && task.readBackAfterWrite !== true) {
        this.batches = new BatchCopies(
          src,
          tgt,
          v.storageFolder,
          this.signal,
          this.batchHost(src, tgt, v),
          task.concurrency,
        );
      }
      const planner = new SourcePlanner(src, task.sourcePath, task.changeCursor, this.signal);
      this.planner = planner;
      // More small files in flight than large ones (issue #21): see runPool.
      await runPoolOverBatches(
        planCopies(planner, {
          task,
          versions: this.versions,
          rec,
          signal: this.signal,
          seen: this.seen,
          batches: this.batches,
          hasFailed: () => Boolean(this.fatal),
        }),
        task.concurrency,
        (item) => this.copyOne(src, tgt, v, item),
        { sizeOf: (item) => item.entry.size },
      );
      reportListingGaps(planner, rec);
      await this.records.flush();
      await rec.progress(true);

      if (this.fatal) throw this.fatal;
      if (this.signal.aborted) throw this.signal.reason ?? new Error('cancelled');
      // A folder deleted while the run wrote into it was re-created by the writes after it:
      // nothing of it is committed (issue 18: a cloud target folder vanishing mid-run).
      await this.folders.check();
      if (this.accountedFor !== this.handedOut) {
        throw new Error(
          `${this.handedOut - this.accountedFor} file(s) ended neither stored nor reported as failed; the version is not committed`,
        );
      }
      await rec.phase('committing');
      // Files that failed for good are left out of this version (a changed one keeps its last
      // good copy): listed in the run log, counted on the version, tried again next run.
      const skipped = rec.counters.filesFailed;
      await this.versions.commitVersion(
        task,
        v,
        tgt,
        planner.mode === 'changes'
          ? { deletedPaths: planner.deletedPaths() }
          : {
              isSeen: (p) => this.seen.has(p) || planner.isUnderUnreadable(p),
              unchangedSeen: this.rec.counters.filesUnchanged,
            },
        async (em, verdict) => {
          // A held version keeps the stored cursor: the next run lists everything again.
          if (verdict.verdict === 'ok')
            await this.tasks.saveChangeCursor(task.id, planner.cursor ?? null, em);
          const warnings = [
            ...(verdict.verdict === 'hold'
              ? [
                  `version held for approval: ${verdict.reason}; nothing older is pruned until it is approved`,
                ]
              : []),
            ...(skipped > 0
              ? [`${skipped} file(s) skipped (see the run log); the next run tries them again`]
              : []),
          ];
          await rec.finish(warnings.length > 0 ? 'warning' : 'completed', {
            em,
            message: warnings.length > 0 ? warnings.join('; ') : null,
            ...(verdict.verdict === 'hold'
              ? {
                  held: {
                    versionId: v.id,
                    reason: verdict.reason,
                    deleted: verdict.deleted,
                    changed: verdict.changed,
                    previousFileCount: verdict.previousFileCount,
                  },
                }
              : {}),
          });
        },
        { skipped, guard: deletionThresholdsOf(task.deletionGuard) },
      );
      await this.uploadBook.forgetStale(tgt);
      await this.folders.remember(tgt);
      await this.connectors.noteConnectorSuccess(task.sourceAccountId);
    } catch (e) {
      const error = this.fatal ?? e;
      if (version) {
        await this.records?.flush().catch(() => undefined);
        await this.versions.abandonVersion(
          version.id,
          this.storedByThisRun > 0 || this.batchInterrupted,
        );
      }
      if (error instanceof ConnectorError) {
        await this.connectors.noteConnectorFailure(task.sourceAccountId, error);
        await this.connectors.noteConnectorFailure(task.targetAccountId, error);
      }
      if (error instanceof SourceOfflineError || error instanceof TargetOfflineError) {
        await rec.progress(true).catch(() => undefined);
        await rec.finish('offline', { message: error.message });
        return;
      }
      throw error;
    } finally {
      await source?.close?.().catch(() => undefined);
      await target?.close?.().catch(() => undefined);
    }
  }

  /** Temporary '.cbe-partial-*' files that stopped runs of this task left on the target. */
  private async removeLeftovers(target: Connector): Promise<void> {
    if (!hasPartialCleaner(target)) return;
    let removed = 0;
    for (const folder of await this.versions.interruptedStorageFolders(this.task.id)) {
      removed += await target.removePartials(folder, { signal: this.signal });
    }
    if (removed > 0)
      this.rec.info(`removed ${removed} temporary file(s) that an interrupted run left behind`);
  }

  /**
   * What the batch copies do for the run (see BatchCopies). Batched files are not shown in
   * flight (no fileStarted/fileEnded): a group of up to 100 files ends in milliseconds, so each
   * would show at 0 bytes for less than the second between two progress events, and the entry
   * per file is work on the main thread that the batches exist to avoid. The run's counters and
   * bytes move as each group ends; files in flight on the run page are the larger ones, whose
   * own progress is worth showing.
   */
  private batchHost(
    source: Connector,
    target: Connector,
    version: { seq: number; storageFolder: string },
  ) {
    const { rec, signal } = this;
    return {
      beforeGroup: async () => {
        if (this.fatal || signal.aborted) return false;
        const paused = rec.checkpoint(signal);
        if (paused) await paused;
        if (this.fatal || signal.aborted) return false;
        return !this.folders?.checkDue() || (await this.targetFoldersStillThere(false));
      },
      handedOut: (n: number) => {
        this.handedOut += n;
      },
      stored: (file: WalkedFile, storedPath: string, size: number, sha256: string) => {
        rec.addBytes(size);
        this.stored(file, storedPath, { size, sha256 });
      },
      vanished: (file: WalkedFile, e: unknown) => this.vanished(file, e),
      copySingle: (file: WalkedFile, handedOut: boolean, e?: unknown) => {
        // The batch's try counts as one: logged as a retry, as a failed attempt of copyOne is.
        if (handedOut && !isRunStopping(e))
          rec.retry(`copy ${file.entry.path} (in a batch; again on its own)`, e, 0);
        return this.copyOne(source, target, version, file, handedOut);
      },
      afterGroup: async (storedAny: boolean) => {
        if (storedAny) await this.watchStorageFolder(version.storageFolder);
        await this.recordedIfDue();
      },
      interrupted: () => {
        this.batchInterrupted = true;
      },
    };
  }

  private async copyOne(
    source: Connector,
    target: Connector,
    version: { seq: number; storageFolder: string },
    item: WalkedFile,
    /** Already counted as handed out: a file a batch copy did not store (see batchHost). */
    handedOut = false,
  ): Promise<void> {
    const { rec, signal } = this;
    if (!handedOut) this.handedOut++;
    if (this.fatal || signal.aborted) return;
    // The common case of each step below is synchronous: no promise per file (issue #21).
    const paused = rec.checkpoint(signal);
    if (paused) await paused;
    if (this.folders?.checkDue() && !(await this.targetFoldersStillThere(false))) return;
    const sourcePath = item.entry.path;
    let storedPath = '';
    // Bytes the current attempt has moved: taken back from the progress when it fails.
    let sent = 0;
    try {
      // A name no target path may hold (a backslash, a control character, > 255 bytes) throws
      // here: that file's error, not the run's.
      storedPath = joinPath(version.storageFolder, item.rel);
      const upload = this.uploadBook.forFile(target, item, storedPath);
      storedPath = upload.targetPath;
      // Shown in flight with its own bytes on the run page while it copies.
      rec.fileStarted(item.rel, item.entry.size ?? null);
      const copy = withFileRetries(
        () => {
          sent = 0;
          return transferFile({
            source,
            sourcePath,
            target,
            targetPath: storedPath,
            expectedSize: item.entry.size,
            modifiedAt: item.entry.modifiedAt,
            signal,
            sourceHashes: item.entry.hashes,
            // A target that reports no hash of what it stored is read back when the task says so.
            readBack: this.task.readBackAfterWrite === true,
            onBytes: (n) => {
              sent += n;
              rec.addBytes(n, item.rel);
            },
            // Bytes inside a large file reach the run's row (the recorder writes once a second).
            onProgress: () => void rec.progress()?.catch(() => undefined),
            session: upload.hooks?.(),
            // Durable at the next barrier, before its record reaches the ledger.
            deferSync: true,
          });
        },
        {
          attempts: this.config.fileAttempts,
          clock: this.clock,
          signal,
          onRetry: (attempt, e, delayMs) => {
            rec.addBytes(-sent, item.rel);
            sent = 0;
            rec.retry(`copy ${sourcePath} (attempt ${attempt})`, e, delayMs);
          },
        },
      );
      // A file that goes up in one request has no upload session to wait for or forget.
      const res = await (upload.hooks ? copy.finally(() => upload.settled()) : copy);
      rec.fileEnded(item.rel);
      if (upload.hooks) await upload.stored();
      this.stored(item, storedPath, res);
      if (storedPath.startsWith(`${version.storageFolder}/`))
        await this.watchStorageFolder(version.storageFolder);
    } catch (e) {
      rec.addBytes(-sent, item.rel);
      rec.fileEnded(item.rel);
      const verdict = classifyFileError(e, {
        attempt: this.config.fileAttempts,
        maxAttempts: this.config.fileAttempts,
        aborted: signal.aborted,
      });
      if (verdict.action === 'cancelled') return;
      if (verdict.action === 'vanished') {
        this.vanished(item, e);
        return;
      }
      if (verdict.action === 'stop-run') {
        this.fatal ??= e;
        return;
      }
      // 'skip-file' (a retryable error comes here only once its tries are spent). A write that
      // keeps failing may be the target folder gone: that ends the run, not just the file.
      if (!(await this.targetFoldersStillThere(true))) return;
      this.accountedFor++;
      rec.fileFailed(
        sourcePath,
        e,
        `${sourcePath}: skipped: ${'reason' in verdict ? verdict.reason : ''}`,
      );
      return;
    }
    const recorded = this.recordedIfDue();
    if (recorded) await recorded;
  }

  /** A file stored and verified: counted, and its record queued for the next barrier. */
  private stored(
    item: WalkedFile,
    storedPath: string,
    res: { size: number; sha256: string },
  ): void {
    this.rec.counters.filesCopied++;
    this.storedByThisRun++;
    this.accountedFor++;
    this.records!.push({
      path: item.rel,
      size: res.size,
      sha256: res.sha256,
      sourceHashes: item.entry.hashes,
      sourceId: item.entry.id ?? null,
      modifiedAt: item.entry.modifiedAt ?? null,
      storedPath,
    });
  }

  /** Deleted at the source since it was listed: not in this version, and said so. */
  private vanished(item: WalkedFile, e: unknown): void {
    const { rec } = this;
    const sourcePath = item.entry.path;
    this.accountedFor++;
    rec.counters.filesTotal--;
    rec.counters.bytesTotal -= item.entry.size ?? 0;
    this.seen.delete(item.rel);
    this.planner?.markVanished(item.rel);
    rec.warn(
      `${sourcePath}: deleted at the source during the run; not in this version`,
      sourcePath,
      e,
    );
  }

  /** Once per run: the version's folder exists from the first file stored in it on. */
  private async watchStorageFolder(folder: string): Promise<void> {
    if (this.storageFolderWatched || this.storedByThisRun === 0) return;
    this.storageFolderWatched = true;
    await this.folders?.watch(folder);
  }

  /**
   * After a file or group is stored: records due, progress due. The bytes are safely stored; a
   * failure to record them is the ledger's, and ends the run. Undefined when nothing waits.
   */
  private recordedIfDue(): Promise<void> | undefined {
    try {
      this.records!.recordIfDue();
      const progress = this.rec.progress();
      return progress?.catch((e: unknown) => {
        this.fatal ??= e;
      });
    } catch (e) {
      this.fatal ??= e;
      return undefined;
    }
  }

  /**
   * Checks the watched target folders (at most every 30 s unless `now`); false, with the run's
   * fatal error set, when one vanished.
   */
  private async targetFoldersStillThere(now: boolean): Promise<boolean> {
    const gone = await this.folders?.vanished(now);
    if (gone) this.fatal ??= gone;
    return gone === undefined;
  }
}
