/**
 * What identifies a task's set of current records (`last_seq IS NULL`): how many there are and
 * the highest id among them.
 *
 * Two marks equal means the same set of rows, because
 * - ids only grow (SQLite AUTOINCREMENT, a PostgreSQL sequence): a record opened after the first
 *   mark, or put back by a rebuild from manifests, has an id above every id the first mark
 *   counted; while it stays current the highest id differs;
 * - so with the same highest id, no record opened since is current, and with the same count, no
 *   record counted then was closed or deleted;
 * - a record's columns other than `last_seq` are never updated in place (the ledger only inserts,
 *   closes and deletes), so the same rows make the same manifest lines.
 */
export interface LiveSetMark {
  count: number;
  maxId: number;
}

/**
 * Bytes of manifest lines kept for all tasks together: a 10,000-file version's are ~2.3 MiB, so
 * one or two such tasks. At 8 MiB the peer bench's engines, which run a new 10,000-file task each
 * round, kept three (7 MiB) by the third round and peaked at 191-194 MiB against the 200 MiB budget.
 */
export const MANIFEST_LINES_CACHE_BYTES = 4 * 1024 * 1024;

/**
 * The lines (the manifest after its header) of each task's last committed version, with the mark
 * of the current records they were made from. A version that changed nothing (the same current
 * records at its commit) has the same lines: a no-change run of 10,000 files spent ~35 ms of its
 * ~170 reading them from the ledger and writing them again (issue #21).
 *
 * In this process's memory only: a restart, or a run of the task on another engine of a
 * cluster, finds nothing or a mark that no longer matches, and the lines are made from the ledger.
 * Bounded by `maxBytes` over all tasks; the least recently used task's lines go first.
 */
export class ManifestLinesCache {
  private readonly byTask = new Map<string, { mark: LiveSetMark; lines: Buffer }>();
  private bytes = 0;

  constructor(private readonly maxBytes = MANIFEST_LINES_CACHE_BYTES) {}

  /** The task's lines, when they were made from exactly the current records `mark` names. */
  get(taskId: string, mark: LiveSetMark): Buffer | undefined {
    const kept = this.byTask.get(taskId);
    if (!kept) return undefined;
    if (kept.mark.count !== mark.count || kept.mark.maxId !== mark.maxId) {
      this.forget(taskId);
      return undefined;
    }
    // Most recently used last (Map keeps insertion order).
    this.byTask.delete(taskId);
    this.byTask.set(taskId, kept);
    return kept.lines;
  }

  /**
   * Keeps the lines, given as the buffers they were sent in, as the task's, made from the records
   * of `mark`: copied into one buffer of their size (a page's buffer is larger than its lines, and
   * would stay alive whole), only when they fit.
   */
  set(taskId: string, mark: LiveSetMark, pages: readonly Buffer[]): void {
    this.forget(taskId);
    let size = 0;
    for (const p of pages) size += p.length;
    if (size > this.maxBytes) return;
    for (const [oldest, kept] of this.byTask) {
      if (this.bytes + size <= this.maxBytes) break;
      this.byTask.delete(oldest);
      this.bytes -= kept.lines.length;
    }
    const lines = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const p of pages) at += p.copy(lines, at);
    this.byTask.set(taskId, { mark: { ...mark }, lines });
    this.bytes += size;
  }

  forget(taskId: string): void {
    const kept = this.byTask.get(taskId);
    if (!kept) return;
    this.byTask.delete(taskId);
    this.bytes -= kept.lines.length;
  }

  /** Bytes kept (tests, measurements). */
  get size(): number {
    return this.bytes;
  }
}
