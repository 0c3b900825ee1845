/**
 * Node flags the engine runs with (npm start, the worker, benchmarks, tests that spawn it).
 * Streaming allocates a buffer per chunk that only a scavenge frees; V8's default young
 * generation (16 MiB semi-spaces) lets ~20 MiB of dead buffers pile up between scavenges. With
 * 4 MiB semi-spaces the peak resident memory of a 1 GiB local copy fell from 190 to 174 MiB at the
 * same throughput (docs/benchmarks.md).
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
