import type { StoredFile } from '../../versions/version-ledger.repository.js';

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
/**
 * A batch is also due at this many bytes stored: each barrier on a local folder waits for the
 * disk to take what was written since the last one, so barriers while large files still copy
 * put that writing beside the copying instead of after it (200 photos, 1 GB: the barrier before
 * the commit waited 0.8 s for the disk when every photo was copied in the same second). Clouds
 * have no barrier to wait for; this only writes their records sooner.
 */
const RECORD_BYTES = 192 * 1024 * 1024;

/**
 * The records of files a backup run stored and verified, not yet covered by a barrier (so not
 * in the ledger yet), and the writing of them a batch at a time.
 */
export class PendingRecords {
  private pending: StoredFile[] = [];
  private pendingBytes = 0;
  private lastFlush = Date.now();
  /** The barrier and ledger write of the last batch, while it runs (one at a time). */
  private recording: Promise<void> | undefined;

  constructor(
    /** The target's barrier, then the ledger write, of one batch. */
    private readonly write: (batch: StoredFile[]) => Promise<void>,
    /** A batch that could not be written in the background: that ends the run. */
    private readonly failed: (e: unknown) => void,
  ) {}

  push(record: StoredFile): void {
    this.pending.push(record);
    this.pendingBytes += record.size;
  }

  /**
   * Starts writing the pending records once a batch is due, in the background while files go on
   * copying (one batch at a time). Synchronous: called after every file.
   */
  recordIfDue(): void {
    if (this.recording) return;
    if (
      this.pending.length < RECORD_BATCH &&
      this.pendingBytes < RECORD_BYTES &&
      Date.now() - this.lastFlush < RECORD_FLUSH_MS
    ) {
      return;
    }
    this.recordBatch().catch(this.failed);
  }

  /** Writes every record pending at the call (after the batch being written, if any). */
  async flush(): Promise<void> {
    while (this.recording) await this.recording.catch(() => undefined);
    await this.recordBatch();
  }

  private recordBatch(): Promise<void> {
    this.lastFlush = Date.now();
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return Promise.resolve();
    const recording = this.write(batch);
    this.recording = recording;
    const done = () => {
      if (this.recording === recording) this.recording = undefined;
    };
    void recording.then(done, done);
    return recording;
  }
}
