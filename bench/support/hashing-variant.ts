/**
 * Benchmark-only switch of where and what the engine hashes, for the before/after rows of
 * docs/benchmarks.md ("Source-hash checking and byte progress"), measured on one build:
 *
 *   NODE_OPTIONS="--import ./dist/bench/support/hashing-variant.js" BENCH_HASHING=<variant> \
 *     node dist/bench/matrix.bench.js --scenario large --pair dropbox:local --scale 0.25
 *
 * Variants (comma-separated): `source-off` (compare none of the hashes the source reports),
 * `in-thread` (every digest on the main thread, as before issue 18's worker), `workers=N`.
 * Without BENCH_HASHING it changes nothing. NODE_OPTIONS reaches every process of the benchmark
 * (driver, emulators, limit); only the engine's transfer core reads these settings.
 */
import { hashingSettings } from '../../src/connectors/hashing/off-thread-hashing.js';

for (const part of (process.env.BENCH_HASHING ?? '').split(',').filter(Boolean)) {
  if (part === 'source-off') hashingSettings.sourceHashes = 'ignore';
  else if (part === 'in-thread') hashingSettings.offThreadFromBytes = Number.POSITIVE_INFINITY;
  else if (part.startsWith('workers=')) hashingSettings.workers = Number(part.slice(8));
  else throw new Error(`BENCH_HASHING: unknown variant '${part}'`);
}
