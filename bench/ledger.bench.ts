/**
 * Version ledger at scale, through the real engine (`dist/src/main.js` in its own process, its
 * own DATA_DIR, SQLite ledger), driven over the HTTP API:
 *
 *   setup  seed N small files (F folders of N/F files, 1-4 KiB) in a local source and run the
 *          first full backup (local -> local);
 *   (a)    change C files (one per folder, new bytes, other size, newer time) and run a backup:
 *          wall time, the time spent committing (phase 'committing' to the end), and the
 *          `version_files` rows that version wrote (rows counted in the SQLite file, opened
 *          read-only, before and after: inserted = first_seq of the new version, closed =
 *          last_seq set to the previous one); a run with nothing changed for comparison;
 *   (b)    listing one folder of a version: `GET /api/versions/:id/tree?path=...` and
 *          `GET /api/versions/:id/files?prefix=...` (paged by 500, the API default), latency over
 *          several calls, on the first and on the latest version;
 *   (c)    restoring one folder (N/F files) of the first version to another local folder: wall
 *          time, throughput, the engine's peak RSS (VmHWM reset before the phase), and every
 *          restored byte checked against the seeded content.
 *
 *   npm run bench:ledger -- [--files 100000] [--folders 100] [--changed 100] [--dir D]
 *                           [--concurrency 4] [--fsync] [--repeat 5]
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  describeMachine,
  listFilesUnder,
  machineInfo,
  MiB,
  parseArgs,
  round,
  saveResult,
} from './support/bench-util.js';
import { EngineProcess, sleep, type PhaseMemory, type RunView } from './support/engine-process.js';

/** The slice of better-sqlite3 used here (the project does not install its type package). */
interface SqliteStatement {
  get(...params: unknown[]): Record<string, number>;
}
interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  close(): void;
}
type SqliteCtor = new (
  file: string,
  opts: { readonly: boolean; fileMustExist: boolean },
) => SqliteDb;
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as SqliteCtor;

const args = parseArgs();
const FILES = Number(args.get('files') ?? 100_000);
const FOLDERS = Number(args.get('folders') ?? 100);
const CHANGED = Number(args.get('changed') ?? 100);
const CONCURRENCY = Number(args.get('concurrency') ?? 4);
const REPEAT = Number(args.get('repeat') ?? 5);
const FSYNC = args.get('fsync') === 'true';
const ROOT = resolve(args.get('dir') ?? join(tmpdir(), `cbe-bench-ledger-${FILES}`));
const PER_FOLDER = Math.ceil(FILES / FOLDERS);

// ---- the data set -----------------------------------------------------------------------------

const BASE = (() => {
  const b = Buffer.alloc(64 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
})();

const folderName = (f: number) => `folder-${String(f).padStart(3, '0')}`;
const fileRel = (i: number) =>
  `${folderName(Math.floor(i / PER_FOLDER))}/file-${String(i).padStart(6, '0')}.bin`;

/** File i: 1-4 KiB, a window of the base block whose first 8 bytes carry i and the edit. */
function content(i: number, edit = 0): Buffer {
  const size = 1024 + (((i * 2654435761 + edit * 40503) >>> 0) % (3 * 1024 + 1));
  const off = ((i * 7919 + edit * 104729) >>> 0) % (BASE.length - size);
  const b = Buffer.from(BASE.subarray(off, off + size));
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(edit, 4);
  return b;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs `fn` over 0..n-1, `width` at a time. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function seed(src: string): Promise<{ seconds: number; bytes: number; reused: boolean }> {
  const marker = `${src}.seeded`;
  const want = JSON.stringify({ FILES, FOLDERS, format: 1 });
  let bytes = 0;
  for (let i = 0; i < FILES; i++) bytes += content(i).length;
  const t0 = performance.now();
  if ((await readFile(marker, 'utf8').catch(() => '')) === want)
    return { seconds: 0, bytes, reused: true };
  await rm(src, { recursive: true, force: true });
  for (let f = 0; f * PER_FOLDER < FILES; f++)
    await mkdir(join(src, folderName(f)), { recursive: true });
  const when = new Date(Date.now() - 86_400_000);
  await pool(FILES, 64, async (i) => {
    const abs = join(src, fileRel(i));
    await writeFile(abs, content(i));
    await utimes(abs, when, when);
  });
  await writeFile(marker, want);
  return { seconds: (performance.now() - t0) / 1000, bytes, reused: false };
}

/** One file per folder (spread through the tree), C of them: their indexes. */
function changedIndexes(): number[] {
  const out: number[] = [];
  for (let k = 0; k < CHANGED; k++) {
    const folder = k % FOLDERS;
    const slot = (Math.floor(k / FOLDERS) * 97 + 13) % PER_FOLDER;
    const i = folder * PER_FOLDER + slot;
    if (i < FILES) out.push(i);
  }
  return out;
}

// ---- measuring ----------------------------------------------------------------------------------

interface LedgerRows {
  total: number;
  live: number;
  openedBy: number;
  closedAt: number;
}

function ledgerRows(dbFile: string, taskId: string, seq: number): LedgerRows {
  const db = new Sqlite(dbFile, { readonly: true, fileMustExist: true });
  try {
    const one = (sql: string, ...p: unknown[]) =>
      Number(Object.values(db.prepare(sql).get(...p))[0]);
    return {
      total: one('SELECT COUNT(*) FROM version_files WHERE task_id = ?', taskId),
      live: one(
        'SELECT COUNT(*) FROM version_files WHERE task_id = ? AND last_seq IS NULL',
        taskId,
      ),
      openedBy: one(
        'SELECT COUNT(*) FROM version_files WHERE task_id = ? AND first_seq = ?',
        taskId,
        seq,
      ),
      closedAt: one(
        'SELECT COUNT(*) FROM version_files WHERE task_id = ? AND last_seq = ?',
        taskId,
        seq - 1,
      ),
    };
  } finally {
    db.close();
  }
}

interface TimedRun extends RunView {
  wallMs: number;
  /** From the first poll that saw phase 'committing' to the run's end (polled every 50 ms). */
  committingMs: number | null;
}

async function runAndTime(engine: EngineProcess, taskId: string): Promise<TimedRun> {
  const t0 = performance.now();
  const started = await engine.api<{ id: string }>('POST', `/api/tasks/${taskId}/run`);
  let committingAt: number | undefined;
  for (;;) {
    const r = await engine.api<RunView & { phase: string }>('GET', `/api/runs/${started.id}`);
    const now = performance.now();
    if (r.phase === 'committing' && committingAt === undefined) committingAt = now;
    if (r.status !== 'queued' && r.status !== 'running')
      return {
        ...r,
        wallMs: now - t0,
        committingMs: committingAt === undefined ? null : now - committingAt,
      };
    await sleep(50);
  }
}

async function waitRun(
  engine: EngineProcess,
  runId: string,
): Promise<RunView & { wallMs: number }> {
  const t0 = performance.now();
  for (;;) {
    const r = await engine.api<RunView>('GET', `/api/runs/${runId}`);
    if (r.status !== 'queued' && r.status !== 'running')
      return { ...r, wallMs: performance.now() - t0 };
    await sleep(50);
  }
}

interface Latency {
  calls: number;
  minMs: number;
  medianMs: number;
  maxMs: number;
  requests: number;
  items: number;
  /** What the tree endpoint said (`truncated`), when it is the one measured. */
  truncated?: boolean;
}

async function latency(
  times: number,
  fn: () => Promise<{ requests: number; items: number; truncated?: boolean }>,
) {
  const ms: number[] = [];
  let last: { requests: number; items: number; truncated?: boolean } = { requests: 0, items: 0 };
  for (let k = 0; k < times; k++) {
    const t0 = performance.now();
    last = await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return {
    calls: times,
    minMs: round(ms[0]!),
    medianMs: round(ms[Math.floor(ms.length / 2)]!),
    maxMs: round(ms[ms.length - 1]!),
    ...last,
  } satisfies Latency;
}

// ---- the benchmark ------------------------------------------------------------------------------

async function main(): Promise<void> {
  const machine = machineInfo();
  const src = join(ROOT, 'source');
  const dst = join(ROOT, 'target');
  const restored = join(ROOT, 'restored');
  const data = join(ROOT, 'engine-data');
  for (const d of [dst, restored, data]) await rm(d, { recursive: true, force: true });
  await mkdir(dst, { recursive: true });
  await mkdir(restored, { recursive: true });

  console.log(`seeding ${FILES} files in ${FOLDERS} folders under ${src} ...`);
  const seeded = await seed(src);
  // A run before this one may have edited files: put the seeded content back.
  const changed = changedIndexes();
  const back = new Date(Date.now() - 86_400_000);
  for (const i of changed) {
    const abs = join(src, fileRel(i));
    await writeFile(abs, content(i));
    await utimes(abs, back, back);
  }
  console.log(`  ${seeded.reused ? 'reused' : `written in ${round(seeded.seconds)} s`}`);

  const engine = await EngineProcess.start({ dataDir: data, env: { TMPDIR: ROOT } });
  try {
    const account = (name: string, root: string) =>
      engine.api<{ id: string }>('POST', '/api/accounts', {
        kind: 'local',
        name,
        options: { root, fsync: FSYNC },
      });
    const srcAcc = await account('source', src);
    const dstAcc = await account('backup drive', dst);
    const elsewhere = await account('restore here', restored);
    const task = await engine.api<{ id: string }>('POST', '/api/tasks', {
      name: 'ledger bench',
      sourceAccountId: srcAcc.id,
      targetAccountId: dstAcc.id,
      targetPath: 'Backup',
      concurrency: CONCURRENCY,
    });
    const dbFile = join(data, 'backup.sqlite');

    // setup: the first full backup
    console.log('first full backup ...');
    const first = await engine.measure(() => runAndTime(engine, task.id));
    if (first.value.status !== 'completed' || first.value.filesCopied !== FILES)
      throw new Error(`first backup: ${JSON.stringify(first.value)}`);
    const rowsAfterFirst = ledgerRows(dbFile, task.id, 2);
    console.log(`  ${round(first.value.wallMs / 1000)} s, ${rowsAfterFirst.total} rows`);

    // (a) a version in which C files changed
    const later = new Date(Date.now() + 60_000);
    for (const i of changed) {
      const abs = join(src, fileRel(i));
      await writeFile(abs, content(i, 1));
      await utimes(abs, later, later);
    }
    console.log(`(a) backup with ${changed.length} changed files ...`);
    const commit = await engine.measure(() => runAndTime(engine, task.id));
    if (commit.value.status !== 'completed' || commit.value.filesCopied !== changed.length)
      throw new Error(`backup of the changes: ${JSON.stringify(commit.value)}`);
    const rowsAfterCommit = ledgerRows(dbFile, task.id, 2);
    console.log(
      `  ${round(commit.value.wallMs / 1000)} s, +${rowsAfterCommit.total - rowsAfterFirst.total} rows`,
    );
    console.log('(a) backup with nothing changed ...');
    const idle = await engine.measure(() => runAndTime(engine, task.id));
    if (idle.value.status !== 'completed' || idle.value.filesCopied !== 0)
      throw new Error(`backup with nothing changed: ${JSON.stringify(idle.value)}`);
    const rowsAfterIdle = ledgerRows(dbFile, task.id, 3);

    const versions = await engine.api<Array<{ id: string; seq: number; fileCount: number }>>(
      'GET',
      `/api/tasks/${task.id}/versions`,
    );
    const v = (seq: number) => versions.find((x) => x.seq === seq)!;

    // (b) listing one folder of a version
    const folder = folderName(Math.floor(FOLDERS / 2));
    const tree = (versionId: string, path: string) => async () => {
      const body = await engine.api<{ folders: string[]; files: unknown[]; truncated: boolean }>(
        'GET',
        `/api/versions/${versionId}/tree?path=${encodeURIComponent(path)}`,
      );
      return {
        requests: 1,
        items: body.folders.length + body.files.length,
        truncated: body.truncated,
      };
    };
    const filesPaged = (versionId: string, path: string) => async () => {
      let requests = 0;
      let items = 0;
      let afterId: number | null = null;
      do {
        const page: { files: unknown[]; nextAfterId: number | null } = await engine.api(
          'GET',
          `/api/versions/${versionId}/files?prefix=${encodeURIComponent(path)}${afterId ? `&afterId=${afterId}` : ''}`,
        );
        requests++;
        items += page.files.length;
        afterId = page.nextAfterId;
      } while (afterId !== null);
      return { requests, items };
    };
    console.log(`(b) listing ${folder} ...`);
    const listing = {
      folder,
      treeLatest: await latency(REPEAT, tree(v(3).id, folder)),
      treeFirst: await latency(REPEAT, tree(v(1).id, folder)),
      treeRootLatest: await latency(REPEAT, tree(v(3).id, '')),
      filesPrefixLatest: await latency(REPEAT, filesPaged(v(3).id, folder)),
      filesPrefixFirst: await latency(REPEAT, filesPaged(v(1).id, folder)),
    };

    // (c) restoring a folder of the first version somewhere else
    console.log(`(c) restoring ${folder} of version 1 ...`);
    const restore = await engine.measure(async () => {
      const t0 = performance.now();
      const started = await engine.api<{ id: string }>('POST', `/api/versions/${v(1).id}/restore`, {
        paths: [folder],
        destination: { accountId: elsewhere.id, path: 'restored' },
        conflict: 'overwrite',
      });
      const r = await waitRun(engine, started.id);
      return { ...r, wallMs: performance.now() - t0 };
    });
    const restoredFiles = await listFilesUnder(join(restored, 'restored'));
    let mismatches = 0;
    let restoredBytes = 0;
    for (const abs of restoredFiles) {
      const rel = relative(join(restored, 'restored'), abs).split('\\').join('/');
      const i = Number(/file-(\d+)\.bin$/.exec(rel)?.[1] ?? NaN);
      const bytes = await readFile(abs);
      restoredBytes += bytes.length;
      if (rel !== fileRel(i) || sha256(bytes) !== sha256(content(i))) mismatches++;
    }
    const expectedRestored = Math.min(PER_FOLDER, FILES - Math.floor(FOLDERS / 2) * PER_FOLDER);

    const secs = (ms: number) => round(ms / 1000, 2);
    const mem = (m: PhaseMemory) => ({
      startMiB: round(m.startRssMiB),
      peakMiB: round(m.peakRssMiB),
      sampledMaxMiB: round(m.sampledMaxRssMiB),
      peakWasReset: m.peakWasReset,
    });
    const result = {
      date: new Date().toISOString(),
      machine: describeMachine(machine),
      loadAtStart: machine.load,
      files: FILES,
      folders: FOLDERS,
      sourceBytes: seeded.bytes,
      concurrency: CONCURRENCY,
      fsync: FSYNC,
      seed: seeded.reused ? 'reused from an earlier run' : `${round(seeded.seconds)} s`,
      firstBackup: {
        status: first.value.status,
        filesCopied: first.value.filesCopied,
        wallSeconds: secs(first.value.wallMs),
        engineSeconds: secs(first.value.durationMs),
        committingSeconds:
          first.value.committingMs === null ? null : secs(first.value.committingMs),
        filesPerSec: round(FILES / (first.value.durationMs / 1000)),
        memory: mem(first.memory),
        ledgerRows: rowsAfterFirst.total,
      },
      commitOfChanges: {
        changedFiles: changed.length,
        status: commit.value.status,
        filesCopied: commit.value.filesCopied,
        filesUnchanged: commit.value.filesUnchanged,
        wallSeconds: secs(commit.value.wallMs),
        engineSeconds: secs(commit.value.durationMs),
        committingSeconds:
          commit.value.committingMs === null ? null : secs(commit.value.committingMs),
        memory: mem(commit.memory),
        rowsBefore: rowsAfterFirst.total,
        rowsAfter: rowsAfterCommit.total,
        rowsInserted: rowsAfterCommit.openedBy,
        rowsClosed: rowsAfterCommit.closedAt,
        rowsWritten: rowsAfterCommit.openedBy + rowsAfterCommit.closedAt,
        liveRows: rowsAfterCommit.live,
      },
      commitOfNothing: {
        status: idle.value.status,
        filesUnchanged: idle.value.filesUnchanged,
        wallSeconds: secs(idle.value.wallMs),
        engineSeconds: secs(idle.value.durationMs),
        committingSeconds: idle.value.committingMs === null ? null : secs(idle.value.committingMs),
        memory: mem(idle.memory),
        rowsInserted: rowsAfterIdle.openedBy,
        rowsClosed: rowsAfterIdle.closedAt,
        rowsAfter: rowsAfterIdle.total,
      },
      listing,
      restore: {
        version: 1,
        folder,
        status: restore.value.status,
        filesCopied: restore.value.filesCopied,
        filesFailed: restore.value.filesFailed,
        bytes: restoredBytes,
        wallSeconds: secs(restore.value.wallMs),
        engineSeconds: secs(restore.value.durationMs),
        filesPerSec: round(restoredFiles.length / (restore.value.wallMs / 1000)),
        mibPerSec: round(restoredBytes / MiB / (restore.value.wallMs / 1000), 2),
        memory: mem(restore.memory),
        filesOnDisk: restoredFiles.length,
        expected: expectedRestored,
        mismatches,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved ${await saveResult(`ledger-${FILES}`, result)}`);
    if (
      restore.value.status !== 'completed' ||
      restoredFiles.length !== expectedRestored ||
      mismatches > 0
    )
      process.exitCode = 1;
  } catch (e) {
    console.error(engine.recentStderr().slice(-3000));
    throw e;
  } finally {
    await engine.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
