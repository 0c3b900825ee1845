/**
 * Node flags the engine runs with (npm start, the worker, benchmarks, tests that spawn it).
 * Streaming allocates a buffer per chunk that only a scavenge frees; V8's default young
 * generation (16 MiB semi-spaces) lets ~20 MiB of dead buffers pile up between scavenges. With
 * 4 MiB semi-spaces the peak resident memory of a 1 GiB local copy fell from 190 to 174 MiB at the
 * same throughput (docs/benchmarks.md).
 *
 * --heap-growing-percent=75: after a full GC, V8 lets the old generation grow to 1.75 times what
 * survived before the next one (its own factor goes up to 4 on a large machine). Copying 2,000
 * small files, the default let dead objects and the buffers they hold pile up from 140 to 270 MiB
 * ("S3, WebDAV, SFTP targets" in docs/benchmarks.md). It is a growth factor, not a cap: a task
 * with a large live heap (100,000 files) gets a proportionally larger heap instead of an
 * out-of-memory crash. The factor trades memory for CPU on large streams, where every full GC
 * marks the engine's whole heap (Nest, TypeORM, SDKs) and V8's GC threads did most of the extra
 * work: 2 GiB Google Drive -> local, engine CPU (GC threads) and S3 2,000-file peak RSS
 * ("Garbage collection against throughput" in docs/benchmarks.md):
 *   50: 12.1 s (4.9 s), 166 MiB;  75: 7.6-9.0 s (1.6-2.1 s), 179 MiB;  100: 4.8-5.8 s (0.5 s), 198 MiB.
 * 75 keeps the 2,000-file peak clear of the 200 MiB budget at two thirds of 50's GC cost.
 *
 * --expose-gc: for `releaseMemoryAfterRun` (src/common/memory.ts), one full GC after each run.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=75',
  '--expose-gc',
];
