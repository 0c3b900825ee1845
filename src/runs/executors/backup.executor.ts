import type { Clock } from '../../common/clock.js';
import type { BackupConfig } from '../../config/app-config.js';
import { flushWrites, hasPartialCleaner } from '../../connectors/capabilities.js';
import type { Connector } from '../../connectors/connector.js';
import {
  ConnectorError,
  FatalError,
  SourceOfflineError,
  TargetOfflineError,
} from '../../connectors/connector.errors.js';
import type { RetryEvent } from '../../connectors/pacer/pacer.js';
import { joinPath } from '../../connectors/path.js';
import type { StoredFile } from '../../versions/version-ledger.repository.js';
import { deletionThresholdsOf } from '../../versions/deletion-guard.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { RunEntity } from '../../tasks/entities/run.entity.js';
import type { TaskEntity } from '../../tasks/entities/task.entity.js';
import { isUnchanged } from '../../backup/plan/change-detection.js';
import { ExtensionFilter } from '../../backup/plan/extension-filter.js';
import { SourcePlanner } from '../../backup/plan/source-planner.js';
import type { WalkedFile } from '../../backup/plan/walk.js';
import type { TasksRepository } from '../../tasks/tasks.repository.js';
import type { UploadSessionStore } from '../../tasks/upload-sessions.repository.js';
import { UploadSessionBook } from '../../backup/transfer/upload-session-book.js';
import type { TargetFolderIds } from '../../tasks/target-folders.repository.js';
import { runPoolOverBatches } from '../../backup/transfer/pool.js';
import { assertRunRootsPresent } from '../../backup/plan/root-presence.js';
import { TargetFolderWatch } from '../../backup/plan/target-folder-watch.js';
import { classifyFileError } from '../../backup/transfer/error-policy.js';
import { transferFile } from '../../backup/transfer/transfer-file.js';
import { withFileRetries } from '../../backup/transfer/with-retries.js';
import type { ConnectorProvider } from '../connector-provider.js';
import type { RunExecutor } from '../run-executor.js';
import { describeError } from '../run-outcome.js';
import type { RunRecorder } from '../run-recorder.js';

/** Source paths resolved against the ledger per batch: one indexed query per 200 files. */
const PLAN_BATCH = 200;
/** How often, at most, the target folders are checked while files are copied (and always before a commit). */
const FOLDER_CHECK_MS = 30_000;
/**
 * Stored-file records are written in batches, each after a durability barrier of the target
 * (`flushWrites`: one syncfs on a local folder, nothing on a cloud) that covers its files: no
 * record in the ledger, where a later run would reuse it, names bytes that are not durable.
 * A batch is due at this many files or this long after the last one; after a crash at most
 * about that many files (those not yet covered) are copied again. The time bounds it in
 * practice: a barrier on a local folder forks `sync` (~10 ms of the engine's main thread on a
 * ~150 MiB process), so at 500 files a batch a fast run of small files paid it several times a
 * second; 2,000 keeps the pending records small (~0.5 MiB) and the barriers to about one a
 * second (issue #21).
 */
const RECORD_BATCH = 2_000;
const RECORD_FLUSH_MS = 1_000;

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
  private pendingRecords: StoredFile[] = [];
  private lastRecordFlush = Date.now();
  /** The barrier and ledger write of the last batch, while it runs (one at a time). */
  private recording: Promise<void> | undefined;
  private target: Connector | undefined;
  private storedByThisRun = 0;
  /**
   * Files handed to copyOne, and those that ended stored, skipped with an error, or vanished.
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
  private folders: TargetFolderWatch | undefined;
  /** The id the task's target folder had at the last completed run, when it still applies. */
  private knownFolderId: string | undefined;
  private lastFolderCheck = 0;
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
      this.target = target;
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
      this.folders = new TargetFolderWatch(target);
      await this.folders.watch(task.targetPath, { signal: this.signal });
      await this.assertSameTargetFolder();
      this.lastFolderCheck = this.clock.now().getTime();
      await this.uploadBook.load();
      version = await this.versions.beginVersion(task, this.run.id, this.clock.now());
      await rec.setVersion(version.id);

      const v = version;
      const src = source;
      const tgt = target;
      const planner = new SourcePlanner(src, task.sourcePath, task.changeCursor, this.signal);
      this.planner = planner;
      // More small files in flight than large ones (issue #21): see runPool.
      await runPoolOverBatches(
        this.plan(planner),
        task.concurrency,
        (item) => this.copyOne(src, tgt, v, item),
        { sizeOf: (item) => item.entry.size },
      );
      for (const u of planner.unreadableFolders()) {
        // Counted as skipped: the run ends with a warning, and the folder's files stay as the
        // last version had them (not seen is not deleted).
        rec.fileFailed(
          u.rel,
          u.error,
          `${u.rel}/: folder skipped, it could not be listed: ${describeError(u.error)}`,
        );
      }
      if (planner.cursorWasRefused) {
        rec.warn('the stored change cursor was refused by the source; listed everything instead');
      }
      await this.flushRecords(v.seq);
      await rec.progress(true);

      if (this.fatal) throw this.fatal;
      if (this.signal.aborted) throw this.signal.reason ?? new Error('cancelled');
      // A folder deleted while the run wrote into it was re-created by the writes after it:
      // nothing of it is committed (issue 18: a cloud target folder vanishing mid-run).
      await this.folders.check({ signal: this.signal });
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
      await this.rememberTargetFolder(tgt);
      await this.connectors.noteConnectorSuccess(task.sourceAccountId);
    } catch (e) {
      const error = this.fatal ?? e;
      if (version) {
        await this.flushRecords(version.seq).catch(() => undefined);
        await this.versions.abandonVersion(version.id, this.storedByThisRun > 0);
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
   * Walks the source, filters, and yields only what must be copied, a resolved batch at a time
   * (the pool hands out its files without an iterator step each); pulled by the pool.
   */
  private async *plan(planner: SourcePlanner): AsyncGenerator<WalkedFile[]> {
    const { counters } = this.rec;
    const filter = new ExtensionFilter(this.task.filterMode, this.task.filterExtensions);
    let batch: WalkedFile[] = [];
    for await (const f of planner.files()) {
      if (this.fatal || this.signal.aborted) return;
      if (!filter.accepts(f.rel)) {
        counters.filesFiltered++;
        continue;
      }
      if (this.seen.has(f.rel)) continue; // a provider listing the same path twice
      this.seen.add(f.rel);
      counters.filesTotal++;
      counters.bytesTotal += f.entry.size ?? 0;
      batch.push(f);
      if (batch.length >= PLAN_BATCH) {
        yield await this.resolve(batch);
        batch = [];
      }
    }
    // Listing is over here: say so before the last batch is handed out, not after its last file
    // was taken (on a small tree that was most of the run shown as "listing").
    const last = await this.resolve(batch);
    await this.rec.phase('transferring');
    yield last;
  }

  private async resolve(batch: WalkedFile[]): Promise<WalkedFile[]> {
    if (batch.length === 0) return [];
    const live = await this.versions.findCurrentFiles(
      this.task.id,
      batch.map((f) => f.rel),
    );
    const out: WalkedFile[] = [];
    for (const f of batch) {
      const stored = live.get(f.rel);
      if (stored && isUnchanged(stored, f.entry)) {
        this.rec.counters.filesUnchanged++;
        this.rec.counters.bytesUnchanged += f.entry.size ?? stored.size;
      } else out.push(f);
    }
    await this.rec.progress();
    return out;
  }

  private async copyOne(
    source: Connector,
    target: Connector,
    version: { seq: number; storageFolder: string },
    item: WalkedFile,
  ): Promise<void> {
    const { rec, signal } = this;
    this.handedOut++;
    if (this.fatal || signal.aborted) return;
    // The common case of each step below is synchronous: no promise per file (issue #21).
    const paused = rec.checkpoint(signal);
    if (paused) await paused;
    if (this.folderCheckDue() && !(await this.targetFoldersStillThere(false))) return;
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
      rec.counters.filesCopied++;
      this.storedByThisRun++;
      this.accountedFor++;
      if (!this.storageFolderWatched && storedPath.startsWith(`${version.storageFolder}/`)) {
        // Once per run: the folder exists from the first file stored in it on.
        this.storageFolderWatched = true;
        await this.folders?.watch(version.storageFolder, { signal }).catch(() => undefined);
      }
      this.pendingRecords.push({
        path: item.rel,
        size: res.size,
        sha256: res.sha256,
        sourceHashes: item.entry.hashes,
        sourceId: item.entry.id ?? null,
        modifiedAt: item.entry.modifiedAt ?? null,
        storedPath,
      });
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
    // The bytes are safely stored; a failure to record them is the ledger's, and ends the run.
    try {
      this.recordIfDue(version.seq);
      const progress = rec.progress();
      if (progress) await progress;
    } catch (e) {
      this.fatal ??= e;
    }
  }

  /**
   * The task's target folder must be the one its last completed run wrote into: at the same
   * path with another id, it was deleted and made again, and the earlier versions' files are
   * not in it. Ends the run offline, as a missing folder does.
   */
  private async assertSameTargetFolder(): Promise<void> {
    const { task } = this;
    const known = await this.folderIds?.find(task.id);
    if (!known || known.targetAccountId !== task.targetAccountId) return;
    if (known.path !== task.targetPath) return;
    this.knownFolderId = known.folderId;
    const now = this.folders?.idOf(task.targetPath);
    if (now === undefined || now === known.folderId) return;
    throw new TargetOfflineError(
      `the target is offline: the folder '${task.targetPath}' is not the one that holds the earlier versions ` +
        '(it was deleted and made again, so their files may be gone); nothing is written until that folder is back',
    );
  }

  /** After a commit: the id of the folder the run wrote into, for the next run's check. */
  private async rememberTargetFolder(target: Connector): Promise<void> {
    const { task } = this;
    if (!this.folderIds || task.targetPath === '') return;
    try {
      const id = (await target.stat(task.targetPath, { signal: this.signal })).id;
      if (id === undefined || id === this.knownFolderId) return;
      await this.folderIds.save(
        {
          taskId: task.id,
          targetAccountId: task.targetAccountId,
          path: task.targetPath,
          folderId: id,
        },
        this.clock.now(),
      );
    } catch {
      // The version is committed; without a remembered id the next run checks presence only.
    }
  }

  /** Whether the watched target folders are due for a check (every FOLDER_CHECK_MS). */
  private folderCheckDue(): boolean {
    return (
      this.folders !== undefined &&
      this.clock.now().getTime() - this.lastFolderCheck >= FOLDER_CHECK_MS
    );
  }

  /**
   * Checks the watched target folders (at most every FOLDER_CHECK_MS unless `now`); false, with
   * the run's fatal error set, when one vanished.
   */
  private async targetFoldersStillThere(now: boolean): Promise<boolean> {
    if (!this.folders || (!now && !this.folderCheckDue())) return true;
    this.lastFolderCheck = this.clock.now().getTime();
    try {
      await this.folders.check({ signal: this.signal });
      return true;
    } catch (e) {
      if (!(e instanceof TargetOfflineError)) return true; // a flaky stat is not a verdict
      this.fatal ??= e;
      return false;
    }
  }

  /**
   * Writes every record pending at the call (after the batch being written, if any): first the
   * target's durability barrier, then the records.
   */
  private async flushRecords(seq: number): Promise<void> {
    while (this.recording) await this.recording.catch(() => undefined);
    await this.recordBatch(seq);
  }

  /**
   * Starts writing the pending records once a batch is due, in the background while files go on
   * copying (one batch at a time): first the target's durability barrier, then the records; a
   * failure of either ends the run. Synchronous: called after every file.
   */
  private recordIfDue(seq: number): void {
    if (this.recording) return;
    if (
      this.pendingRecords.length < RECORD_BATCH &&
      Date.now() - this.lastRecordFlush < RECORD_FLUSH_MS
    )
      return;
    this.recordBatch(seq).catch((e: unknown) => {
      this.fatal ??= e;
    });
  }

  private recordBatch(seq: number): Promise<void> {
    this.lastRecordFlush = Date.now();
    const batch = this.pendingRecords;
    this.pendingRecords = [];
    const target = this.target;
    if (batch.length === 0 || !target) return Promise.resolve();
    const recording = (async () => {
      // No signal: a cancelled run still records what it stored, for the next run to reuse.
      await flushWrites(target);
      await this.versions.recordStoredFiles(this.task.id, seq, batch);
    })();
    this.recording = recording;
    void recording.then(
      () => this.doneRecording(recording),
      () => this.doneRecording(recording),
    );
    return recording;
  }

  private doneRecording(p: Promise<void>): void {
    if (this.recording === p) this.recording = undefined;
  }
}
