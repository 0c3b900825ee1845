import type {
  BatchCopier,
  BatchCopyItem,
  BatchCopyResult,
  Connector,
} from '../../connectors/connector.js';
import { joinPath } from '../../connectors/path.js';
import type { WalkedFile } from '../../backup/plan/walk.js';
import {
  batchLimitOf,
  isBatchable,
  judgeBatchResult,
} from '../../backup/transfer/transfer-batch.js';

const MiB = 1024 * 1024;

/**
 * A group of small files goes to the copier when it holds this many files or bytes. The files of
 * a group are handled together on the main thread when its results come (records, counters),
 * without a promise, stream or event per file: that per-file work was most of the engine's CPU on
 * a run of small files (issue #21). A group bounds what the copier holds at once (up to
 * GROUP_BYTES if it reads whole files), and how long a cancel waits for the group in flight.
 */
const GROUP_FILES = 100;
const GROUP_BYTES = 8 * MiB;
/**
 * Groups in flight: two for each of the local copier's two worker threads, one copying and the
 * next one already queued, so a thread that ends a group starts the next at once instead of
 * waiting for the main thread (its SQLite writes of 2,000 records, a GC, the plan's lookups) to
 * take the results and send another. With two in flight (one a thread) the engine's paired ratio
 * to rclone on 10,000 small local files was 0.57-0.92x (mean 0.80) against 0.82-1.16x (mean
 * 0.98) with four, in the same minutes (docs/benchmarks.md, "Stop 23"). A group holds no bytes
 * in flight (the copier reads into its own buffer), and a cancel reaches a queued one at once.
 */
const GROUPS_IN_FLIGHT = 4;

/** What the backup run does for the files of a group (see BackupExecution). */
export interface BatchHost {
  /**
   * Before a group is copied: waits while the run is paused; false when the run is stopping
   * (cancelled, failed, the target folder gone) and the group must not start.
   */
  beforeGroup(): Promise<boolean>;
  /** These files go to the copier: counted as handed out, each to be accounted for. */
  handedOut(n: number): void;
  /** Stored, verified: counted, and its record queued. */
  stored(file: WalkedFile, storedPath: string, size: number, sha256: string): void;
  /** Deleted at the source since it was listed. */
  vanished(file: WalkedFile, error: unknown): void;
  /**
   * The single path (retries, error classification) for a file the batch did not store
   * (`handedOut`, with the batch's error) or that was never sent.
   */
  copySingle(file: WalkedFile, handedOut: boolean, batchError?: unknown): Promise<void>;
  /** A group's results are in (`storedAny`: it stored files): records due, progress. */
  afterGroup(storedAny: boolean): Promise<void>;
  /** A group was cancelled in flight: some of its files may be on the target, unrecorded. */
  interrupted(): void;
}

/**
 * Copies the small files of a backup run in groups through the target's BatchCopier (issue #21),
 * beside the pool that copies the others one by one. Fed by the planner a resolved batch at a
 * time (`take`), it keeps at most GROUPS_IN_FLIGHT groups in flight, and holds the planner back
 * while that many are. Holds no file bytes: the copier reads and writes them.
 */
export class BatchCopies {
  private group: WalkedFile[] = [];
  private groupBytes = 0;
  private running = 0;
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private readonly maxInFlight: number;

  constructor(
    private readonly source: Connector,
    private readonly target: Connector & BatchCopier,
    private readonly storageFolder: string,
    private readonly signal: AbortSignal,
    private readonly host: BatchHost,
    concurrency: number,
  ) {
    // A task set to one file at a time (gentle on a slow drive) gets one group at a time.
    this.maxInFlight = Math.max(1, Math.min(GROUPS_IN_FLIGHT, concurrency));
  }

  /**
   * Takes the files of a resolved plan batch that may be copied in a batch (see isBatchable) and
   * returns the others, for the pool. Sends each group as it fills, waiting for room.
   */
  async take(files: readonly WalkedFile[]): Promise<WalkedFile[]> {
    const rest: WalkedFile[] = [];
    const caps = this.target.capabilities;
    const maxBytes = batchLimitOf(this.target);
    for (const f of files) {
      if (!isBatchable(f.entry, caps, maxBytes)) {
        rest.push(f);
        continue;
      }
      this.group.push(f);
      this.groupBytes += f.entry.size!;
      if (this.group.length >= GROUP_FILES || this.groupBytes >= GROUP_BYTES) await this.send();
    }
    return rest;
  }

  /** Sends the last group and waits for every group; throws the first failure of one. */
  async finish(): Promise<void> {
    if (this.group.length > 0) await this.send();
    await this.drain();
  }

  /** Waits for the groups in flight (also after the run stopped); throws a group's failure. */
  async drain(): Promise<void> {
    while (this.running > 0) await this.waitForOne();
    if (this.failure) throw this.failure.error;
  }

  private async send(): Promise<void> {
    const group = this.group;
    this.group = [];
    this.groupBytes = 0;
    while (this.running >= this.maxInFlight) await this.waitForOne();
    if (this.failure) throw this.failure.error;
    this.running++;
    this.copyGroup(group).then(
      () => this.ended(),
      (e: unknown) => {
        this.failure ??= { error: e };
        this.ended();
      },
    );
  }

  private ended(): void {
    this.running--;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private waitForOne(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private async copyGroup(group: WalkedFile[]): Promise<void> {
    const { host, signal } = this;
    if (!(await host.beforeGroup())) return;
    const items: BatchCopyItem[] = [];
    const sent: WalkedFile[] = [];
    // Files for the single path: those the batch did not store (handed out already) and those
    // never sent (a name no target path may hold: the single path reports it as the file's error).
    const again: Array<{ file: WalkedFile; error: unknown }> = [];
    const unsent: WalkedFile[] = [];
    for (const f of group) {
      let targetPath: string;
      try {
        targetPath = joinPath(this.storageFolder, f.rel);
      } catch {
        unsent.push(f);
        continue;
      }
      items.push({
        sourcePath: f.entry.path,
        targetPath,
        expectedSize: f.entry.size!,
        modifiedAt: f.entry.modifiedAt,
      });
      sent.push(f);
    }
    host.handedOut(items.length);
    const remove: string[] = [];
    let results: BatchCopyResult[] | undefined;
    try {
      if (items.length > 0) results = await this.target.copyBatch(this.source, items, { signal });
    } catch (e) {
      if (signal.aborted) {
        // Cancelled: what the copier finished of the group is on the target but not recorded
        // (as a single file cancelled after its write); nothing of it reaches the ledger.
        host.interrupted();
        return;
      }
      // The call failed as a whole (the copier's worker died...): each file gets the single path.
      for (const file of sent) again.push({ file, error: e });
    }
    let storedAny = false;
    for (let i = 0; results && i < items.length; i++) {
      const item = items[i]!;
      const file = sent[i]!;
      const verdict = judgeBatchResult(item, results[i]);
      if (verdict.kind === 'stored') {
        storedAny = true;
        host.stored(file, item.targetPath, verdict.size, verdict.sha256);
      } else if (verdict.kind === 'vanished') host.vanished(file, verdict.error);
      else {
        if (verdict.remove) remove.push(item.targetPath);
        again.push({ file, error: verdict.error });
      }
    }
    await host.afterGroup(storedAny);
    if (again.length === 0 && unsent.length === 0) return;
    // Files the batch did not store go one at a time: rare, and each with its retries.
    for (const p of remove) await this.target.remove(p, { signal }).catch(() => undefined);
    for (const { file, error } of again) await host.copySingle(file, true, error);
    for (const file of unsent) await host.copySingle(file, false);
  }
}
