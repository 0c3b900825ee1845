/**
 * Hands back the heap a finished run grew to: one full, compacting GC once the run's streams and
 * connectors are gone. V8 shrinks a heap that went quiet only after a while (its memory reducer),
 * so a run started right after a large one began from the large one's heap: on the S3 target,
 * 2,000 small files after a 1 GiB file started at 177.6 MiB and peaked at 208.0, against 132 and
 * 195 with this GC ("S3, WebDAV, SFTP targets" in docs/benchmarks.md). A full GC of the engine's
 * heap takes tens of milliseconds, once per run. It needs `--expose-gc` (ENGINE_NODE_FLAGS);
 * without it (tests, a plain `node`) nothing happens.
 */
export function releaseMemoryAfterRun(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const MiB = 1024 * 1024;
/** Resident memory above which a running engine collects its whole heap (see runUnderHeapWatch). */
export const RSS_FULL_GC_BYTES = 176 * MiB;
/** How often resident memory is looked at while runs execute, and the least time between GCs. */
const RSS_CHECK_MS = 500;
const FULL_GC_GAP_MS = 2_000;
let runsWatched = 0;
let watch: NodeJS.Timeout | undefined;
let lastFullGc = 0;

/**
 * Runs `work` (one run) with resident memory watched: while any run executes, every RSS_CHECK_MS,
 * a resident size over RSS_FULL_GC_BYTES gets one full GC (at most every FULL_GC_GAP_MS). A
 * long run of small files promotes short-lived objects (requests, records, paths) past the young
 * generation; V8 lets its old generation grow past what survived the last full GC before
 * collecting it (1.75 times when this was measured, 1.5 since stop 24: src/engine-flags.ts), and
 * what the last run freed is not given back by the allocator: 10,000 small files to S3 after 200 photos peaked at 207-216 MiB with ~46 MiB of
 * live heap and 93 MiB of heap in all; with this watch, 184-191 MiB in the same sequence (issue
 * #21). A full GC of that heap is tens of milliseconds, so over the threshold it costs ~2 % of one
 * core; under it, one read of /proc per check. Needs `--expose-gc` like releaseMemoryAfterRun.
 */
export async function runUnderHeapWatch<T>(work: () => Promise<T>): Promise<T> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return work();
  runsWatched++;
  watch ??= setInterval(() => {
    if (process.memoryUsage.rss() < RSS_FULL_GC_BYTES) return;
    const now = Date.now();
    if (now - lastFullGc < FULL_GC_GAP_MS) return;
    lastFullGc = now;
    gc();
  }, RSS_CHECK_MS).unref();
  try {
    return await work();
  } finally {
    if (--runsWatched === 0) {
      clearInterval(watch);
      watch = undefined;
    }
  }
}

/** Bytes streamed between two young-generation collections (see `noteBytesStreamed`). */
export const SCAVENGE_EVERY_BYTES = 4 * 1024 * 1024;
let streamedSinceScavenge = 0;

/**
 * Told the bytes of every chunk a transfer passes on. Each chunk read from a file or a socket is
 * a buffer of its own, dead once the next stage has copied or sent it; V8 frees such buffers at
 * its next collection, but a stream of them allocates almost nothing on the JavaScript heap, so
 * the next collection waits for ~64 MiB of them (V8's external-memory trigger). On the S3
 * target, photos of 2-8 MiB (copied into pooled part buffers) peaked at 199.9-207.1 MiB against
 * the 200 MiB budget that way. A young-generation collection (a scavenge of 4 MiB semi-spaces,
 * about a millisecond) every SCAVENGE_EVERY_BYTES frees them while they are still young. Needs
 * `--expose-gc`, like releaseMemoryAfterRun. Every 4 MiB rather than 32: with the hashing worker
 * of issue 18 (~10 MiB of its own) the large-file scenario peaked at 196-230 MiB with 32, 189-206
 * MiB with 8 and 184-188 MiB with 4 (quiet machine, scale 0.25), with no more CPU ("Source-hash
 * checking" in docs/benchmarks.md).
 */
export function noteBytesStreamed(n: number): void {
  streamedSinceScavenge += n;
  if (streamedSinceScavenge < SCAVENGE_EVERY_BYTES) return;
  streamedSinceScavenge = 0;
  (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc?.({ type: 'minor' });
}
