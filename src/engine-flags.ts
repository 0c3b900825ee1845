/**
 * Node flags the engine runs with (npm start, the worker, benchmarks, tests that spawn it).
 * Streaming allocates a buffer per chunk that only a scavenge frees; V8's default young
 * generation (16 MiB semi-spaces) lets ~20 MiB of dead buffers pile up between scavenges. With
 * 4 MiB semi-spaces the peak resident memory of a 1 GiB local copy fell from 190 to 174 MiB at the
 * same throughput (docs/benchmarks.md).
 *
 * --heap-growing-percent=50: after a full GC, V8 lets the old generation grow to 1.5 times what
 * survived before the next one (its own factor goes up to 4 on a large machine). Copying 2,000
 * small files, the default let dead objects and the buffers they hold pile up from 140 to 270 MiB
 * ("S3, WebDAV, SFTP targets" in docs/benchmarks.md). It is a growth factor, not a cap: a task
 * with a large live heap gets a proportionally larger heap instead of an out-of-memory crash, but
 * every MiB live costs 1.5 MiB at the peak. A run of 100,000 files holds only ~6.5 MiB of its own
 * over the idle engine's ~38 MiB; with 75 (2026-12-04 to stop 24) its peaks were 208-220 MiB,
 * with 50 198 MiB, and the peer bench's S3 rows 187 MiB at most against 198.8 (issue #21). 50 was
 * the product's flag before 2026-12-04 and was left then for its CPU on large cloud streams
 * (Google Drive -> local 2 GiB: engine CPU 12.1 s against 7.6-9.0 s at 75, "Garbage collection
 * against throughput"); since then transfers scavenge every 4 MiB streamed (noteBytesStreamed)
 * and promote little, and in stop 24 the same 2 GiB took the same CPU with either (15.27 and
 * 14.41 s at 50, 16.84 and 14.41 s at 75, alternating), as did Dropbox -> OneDrive 2 GiB and
 * 10,000 small local files ("Stop 24" in docs/benchmarks.md).
 *
 * --expose-gc: for `releaseMemoryAfterRun` (src/common/memory.ts), one full GC after each run.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=50',
  '--expose-gc',
];
