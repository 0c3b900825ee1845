/** Bytes per block of a whole body (BodyBlockPool). */
export const BODY_BLOCK_SIZE = 256 * 1024;

/**
 * Fixed-size blocks that whole bodies (single PutObjects) are gathered into, shared by a
 * connector's uploads and reused (issue #21). A body takes ceil(size / block) blocks, so a 5.1
 * MiB photo holds 5.25 MiB instead of the 10 MiB of two whole 5 MiB part granules (with a
 * 24 MiB budget: four photos in flight instead of two or three), and a 30 KiB file one block,
 * not 5 MiB. Every block is the same size, so each freed one serves the next body whatever its
 * size: no buffer is dropped to wait for a full GC as external memory. The pool keeps at most
 * the budget's worth of free blocks.
 */
export class BodyBlockPool {
  private readonly free: Buffer[] = [];
  private blocksInUse = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly budgetBlocks: number;

  /** `budget`: bytes the bodies in flight may hold at once (in whole blocks). */
  constructor(
    budget: number,
    readonly blockSize = BODY_BLOCK_SIZE,
  ) {
    this.budgetBlocks = Math.max(1, Math.floor(budget / blockSize));
  }

  /** Blocks needed for a body of `size` bytes (one at least). */
  blocksFor(size: number): number {
    return Math.max(1, Math.ceil(size / this.blockSize));
  }

  /**
   * Blocks for a body of `size` bytes, once the bodies in flight leave room for them within the
   * budget (never waits when none is in use, so a body larger than the budget still goes,
   * alone). Give them back (give) when the body's request is over.
   */
  async take(size: number, signal?: AbortSignal): Promise<Buffer[]> {
    const need = this.blocksFor(size);
    while (this.blocksInUse > 0 && this.blocksInUse + need > this.budgetBlocks) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    signal?.throwIfAborted();
    this.blocksInUse += need;
    const blocks: Buffer[] = [];
    for (let i = 0; i < need; i++)
      blocks.push(this.free.pop() ?? Buffer.allocUnsafeSlow(this.blockSize));
    return blocks;
  }

  give(blocks: readonly Buffer[]): void {
    this.blocksInUse = Math.max(0, this.blocksInUse - blocks.length);
    for (const b of blocks) if (this.free.length < this.budgetBlocks) this.free.push(b);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Blocks held by bodies in flight (for tests). */
  get inUse(): number {
    return this.blocksInUse;
  }

  /** Free blocks kept for the next bodies (for tests). */
  get kept(): number {
    return this.free.length;
  }
}

/**
 * Copies `chunk` into `blocks` at byte `offset` of the body they hold (blocks of `blockSize`
 * bytes, in order). The caller has checked that it fits.
 */
export function copyIntoBlocks(
  blocks: readonly Buffer[],
  blockSize: number,
  offset: number,
  chunk: Buffer,
): void {
  let from = 0;
  let at = offset;
  while (from < chunk.length) {
    const block = blocks[Math.floor(at / blockSize)]!;
    const inBlock = at % blockSize;
    const n = Math.min(chunk.length - from, blockSize - inBlock);
    chunk.copy(block, inBlock, from, from + n);
    from += n;
    at += n;
  }
}

/** The body's bytes as views of its blocks, `size` bytes in all. */
export function blockViews(blocks: readonly Buffer[], blockSize: number, size: number): Buffer[] {
  const views: Buffer[] = [];
  for (let at = 0, i = 0; at < size; at += blockSize, i++)
    views.push(blocks[i]!.subarray(0, Math.min(blockSize, size - at)));
  return views;
}
