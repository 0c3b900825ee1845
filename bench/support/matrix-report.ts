/**
 * The scenario matrix's rows and their Markdown rendering: one table per scenario, the form
 * docs/benchmarks.md uses.
 */
import { SCENARIOS, type Scenario } from './matrix-data.js';

export interface MatrixRow {
  scenario: Scenario;
  pair: string;
  dataSet: { name: string; files: number; bytes: number };
  engine: {
    status: string;
    seconds: number;
    wallSeconds: number;
    files: number;
    filesUnchanged: number;
    bytes: number;
    mbPerSec: number;
    filesPerSec: number;
    retries: number;
    /** CPU seconds (user + system) the engine used during the run. */
    cpuSeconds: number;
    startRssMiB: number;
    peakRssMiB: number;
    /** /proc/<pid>/io write_bytes during the run. */
    writeBytes: number;
    /** Of those, what landed in the local folder of the pair (a local target or destination). */
    localTargetBytes: number;
    /** The rest: SQLite (database + WAL); nothing else is written (see bytesOutsideSqlite). */
    otherWriteBytes: number;
    /** Bytes of files the engine left in its TMPDIR or DATA_DIR besides SQLite and its key. */
    bytesOutsideSqlite: number;
    requests: Record<string, number>;
    requestDetail: unknown;
  };
  limit: {
    seconds: number;
    listSeconds: number;
    files: number;
    bytes: number;
    mbPerSec: number;
    filesPerSec: number;
    peakRssMiB: number;
    /** CPU seconds of the limit process from its listing to its last byte (start-up excluded). */
    cpuSeconds: number;
    requests: Record<string, number>;
  };
  /** Limit seconds / engine seconds (1.0 = as fast as the limit). */
  ratio: number;
  /** 1-minute load average when the row was taken (the machine is shared). */
  load1: number;
  /** Every round's seconds, when the scenario was measured more than once (--rounds). */
  rounds?: { engineSeconds: number[]; limitSeconds: number[] };
}

const TITLES: Record<Scenario, string> = {
  small: 'Small files (4-64 KiB), first backup',
  photos: 'Photos (2-8 MiB), first backup',
  large: 'Large files (2 GiB), first backup',
  repeat: 'Repeat run, nothing changed (limit: listing the source)',
  'repeat-1pct': 'Repeat run, 1 % changed (limit: listing + copying the changed files)',
  restore: 'Restore of the small-files version (limit: copying the version folder)',
};

const mb = (n: number) => (n / 1e6).toFixed(1);
const reqs = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

export function renderTables(rows: readonly MatrixRow[]): string {
  const out: string[] = [];
  for (const s of SCENARIOS) {
    const mine = rows.filter((r) => r.scenario === s);
    if (!mine.length) continue;
    out.push(`#### ${TITLES[s]}`, '');
    out.push(
      '| pair | data set | engine s | MB/s | files/s | limit s | limit MB/s | **ratio** | CPU s engine / limit | peak RSS MiB | disk writes: local target / SQLite / other | requests (engine) | requests (limit) | load |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |',
    );
    for (const r of mine) {
      const e = r.engine;
      out.push(
        `| ${r.pair} | ${r.dataSet.files.toLocaleString('en')} files, ${mb(r.dataSet.bytes)} MB | ${e.seconds} | ${e.mbPerSec} | ${e.filesPerSec} | ${r.limit.seconds} | ${r.limit.mbPerSec} | **${r.ratio.toFixed(2)}** | ${e.cpuSeconds} / ${r.limit.cpuSeconds} | ${e.peakRssMiB} | ${mb(e.localTargetBytes)} MB / ${mb(e.otherWriteBytes)} MB / ${e.bytesOutsideSqlite} B | ${reqs(e.requests)} | ${reqs(r.limit.requests)} | ${r.load1} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
