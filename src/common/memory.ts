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
