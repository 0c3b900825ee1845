/**
 * Node flags the engine runs with (npm start, the worker, benchmarks, tests that spawn it).
 * Streaming allocates a buffer per chunk that only a scavenge frees; V8's default young
 * generation (16 MiB semi-spaces) lets ~20 MiB of dead buffers pile up between scavenges. With
 * 4 MiB semi-spaces the peak resident memory of a 1 GiB local copy fell from 190 to 174 MiB at the
 * same throughput (docs/benchmarks.md).
 *
 * --heap-growing-percent=50: after a full GC, V8 lets the old generation grow to about 1.5 times
 * what survived before the next one (its own factor goes up to 4 on a large machine). Copying
 * 2,000 small files, the default let dead objects and the buffers they hold pile up from 140 to
 * 270 MiB; with 50 the peak stays near 176 MiB at the same rate ("S3, WebDAV, SFTP targets" in
 * docs/benchmarks.md). It is a growth factor, not a cap: a task with a large live heap (100,000
 * files) gets a proportionally larger heap instead of an out-of-memory crash. Lower values (20)
 * save another ~10 MiB but double the GC time of a large stream.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=50',
];
