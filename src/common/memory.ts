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
