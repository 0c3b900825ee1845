/**
 * Scenario matrix (issue #10): every scenario x pair through the real engine, each measured
 * against "the limit" in the same run.
 *
 *   npm run bench -- [--scenario small|photos|large|repeat|repeat-1pct|restore|all (comma list)]
 *                    [--pair local:google-drive,dropbox:onedrive,...|all] [--scale 0.1]
 *                    [--rounds N] [--json out.json] [--dir D] [--keep] [--smoke]
 *
 * Per pair: the cloud emulators in their own processes (bench/support/emulator-host.ts), the
 * engine in its own (dist/src/main.js, own DATA_DIR and TMPDIR, driven over its HTTP API), the
 * limit in its own (bench/support/limit-process.ts: the same production connectors joined by a
 * plain stream, same chunk sizes, same concurrency, no engine logic). Data sets are seeded with
 * the emulators' own helpers (local: written to disk), not through the engine.
 *
 * Scenarios (sizes x --scale):
 *   small        10,000 files of 4-64 KiB, first backup
 *   photos       200 files of 2-8 MiB, first backup
 *   large        4 files of 2 GiB, first backup
 *   repeat       the small-files task again, nothing changed   (limit: listing the source)
 *   repeat-1pct  again after 1 % of the files were rewritten    (limit: listing + copying those)
 *   restore      the small-files version restored to a new folder of the source (or of a local
 *                folder when the source is iCloud Photos)     (limit: copy of the version folder)
 *
 * Per row: engine seconds (its own startedAt..finishedAt), MB/s (10^6 bytes), files/s, peak RSS
 * (VmHWM reset per run), disk writes (/proc/<pid>/io write_bytes) split into what landed on a
 * local target and the rest, requests per emulator; the limit's seconds, MB/s and requests; and
 * ratio = limit seconds / engine seconds (= engine throughput / limit throughput).
 *
 * --rounds N: first backups (small, photos, large) measured N times, engine and limit in alternating
 *   order; the rows take the fastest of each (the machine is shared, so single runs are noisy).
 * --cpu-prof D: the engine and the limit processes run with --cpu-prof, profiles written into D.
 * --smoke: one pair (local:dropbox), every scenario, --scale 0.002: a few seconds plus start-up.
 * --peer rclone: the engine against rclone on a local folder, SFTP, S3 and WebDAV targets instead
 *   (bench/support/peer-bench.ts).
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  describeMachine,
  machineInfo,
  parseArgs,
  round,
  saveResult,
} from './support/bench-util.js';
import type { RequestSummary } from './support/emulator-host.js';
import { EngineProcess, type RunView } from './support/engine-process.js';
import { measureLimit, type MeasuredLimit } from './support/limit-runner.js';
import {
  dataSet,
  onePercent,
  pairName,
  parsePairs,
  parseScenarios,
  type DataSet,
  type Pair,
  type Scenario,
} from './support/matrix-data.js';
import { Side } from './support/matrix-sides.js';
import { runPeerBench } from './support/peer-bench.js';
import { renderTables, type MatrixRow } from './support/matrix-report.js';

/** The engine's default task concurrency (BACKUP_CONCURRENCY, src/config/app-config.ts). */
const DEFAULT_CONCURRENCY = 4;
/** How often the driver asks the engine for a run's state (each poll costs the engine ~2 ms). */
const POLL_MS = 250;

async function treeBytes(root: string | undefined): Promise<number> {
  if (!root) return 0;
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else n += (await stat(p).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(root);
  return n;
}

/** Files the engine left outside SQLite and its key: TMPDIR and DATA_DIR must hold nothing else. */
async function strayFiles(
  engineTmp: string,
  dataDir: string,
): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for (const [dir, allowed] of [
    [engineTmp, () => false],
    [dataDir, (n: string) => /^backup\.sqlite(-wal|-shm|-journal)?$|^secret\.key$/.test(n)],
  ] as const) {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (allowed(e.name)) continue;
      files.push(join(dir, e.name));
      bytes += await treeBytes(join(dir, e.name)).catch(() => 0);
      if (e.isFile()) bytes += (await stat(join(dir, e.name))).size;
    }
  }
  return { files, bytes };
}

interface PairContext {
  pair: Pair;
  dir: string;
  engine: EngineProcess;
  engineTmp: string;
  dataDir: string;
  target: Side;
  /** The local side of the pair, if any (its folder is where local targets land). */
  localRoot(): string | undefined;
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.has('peer')) return runPeerBench(args);
  const smoke = args.has('smoke');
  const scenarios = parseScenarios(args.get('scenario') ?? 'all');
  const pairs = parsePairs(args.get('pair') ?? (smoke ? 'local:dropbox' : 'all'));
  const scale = Number(args.get('scale') ?? (smoke ? 0.002 : 1));
  const root = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-matrix'));
  const keep = args.has('keep');
  const rounds = Math.max(1, Number(args.get('rounds') ?? 1));
  const profDir = args.get('cpu-prof');
  const nodeFlags = profDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(profDir)] : [];
  const machine = machineInfo();
  const rows: MatrixRow[] = [];
  const problems: string[] = [];
  const started = new Date();

  for (const pair of pairs) {
    const dir = join(root, `${pair.source}--${pair.target}`);
    await rm(dir, { recursive: true, force: true });
    const engineTmp = join(dir, 'engine-tmp');
    const dataDir = join(dir, 'engine-data');
    await mkdir(engineTmp, { recursive: true });
    console.log(`\n== ${pairName(pair)} (scale ${scale})`);
    const engine = await EngineProcess.start({
      dataDir,
      env: { TMPDIR: engineTmp },
      nodeFlags,
    });
    const sides: Side[] = [];
    try {
      const target = await Side.start(pair.target, engine, dir);
      sides.push(target);
      let localSide: Side | undefined = target.kind === 'local' ? target : undefined;
      const ctx: PairContext = {
        pair,
        dir,
        engine,
        engineTmp,
        dataDir,
        target,
        localRoot: () => localSide?.localRoot,
      };
      let source: Side | undefined;
      const sourceFor = async (ds: DataSet): Promise<Side> => {
        // iCloud Photos generates its library at start: one emulator per data set.
        if (pair.source === 'icloud-photos') {
          if (source) await source.stop();
          source = await Side.start('icloud-photos', engine, dir, ds);
          sides.push(source);
          return source;
        }
        if (!source) {
          source = await Side.start(pair.source, engine, dir);
          sides.push(source);
          if (source.kind === 'local') localSide = source;
        }
        return source;
      };
      // Restores of an iCloud-sourced version go to a local folder (iCloud is read-only).
      const restoreSide = async (src: Side): Promise<Side> => {
        if (src.kind !== 'icloud-photos') return src;
        if (localSide) return localSide;
        localSide = await Side.start('local', engine, dir);
        return localSide;
      };

      const wantSmall = scenarios.some((s) =>
        ['small', 'repeat', 'repeat-1pct', 'restore'].includes(s),
      );
      if (wantSmall) {
        const ds = dataSet('small', scale);
        const src = await sourceFor(ds);
        console.log(`seeding ${ds.files.length} small files (${ds.bytes} bytes) ...`);
        await src.seed(ds);
        const { task, first, row: smallRow } = await firstBackup(ctx, src, ds);
        if (scenarios.includes('small')) rows.push(smallRow);
        if (scenarios.includes('repeat')) {
          const again = await engineRun(ctx, src, () => engine.runTask(task, POLL_MS));
          const limit = await limitRun(ctx, src, undefined, {
            mode: 'list',
            sourcePath: src.folderOf(ds),
          });
          rows.push(row('repeat', pair, ds, again, limit, problems));
        }
        if (scenarios.includes('repeat-1pct')) {
          if (src.kind === 'icloud-photos') {
            problems.push(`${pairName(pair)} repeat-1pct: skipped (iCloud Photos is read-only)`);
          } else {
            const changed = onePercent(ds);
            await src.modify(ds, changed);
            const r = await engineRun(ctx, src, () => engine.runTask(task, POLL_MS));
            const limit = await limitRun(ctx, src, target, {
              mode: 'copy',
              sourcePath: src.folderOf(ds),
              targetPath: 'l-small-1pct',
              only: changed.map((f) => f.rel),
            });
            rows.push(row('repeat-1pct', pair, ds, r, limit, problems));
          }
        }
        if (scenarios.includes('restore')) {
          const dest = await restoreSide(src);
          const version = await engine.api<{ storageFolder: string }>(
            'GET',
            `/api/versions/${first.run.versionId}`,
          );
          const r = await engineRun(
            ctx,
            src,
            () => restoreRun(engine, first.run.versionId!, dest.accountId, 'e-restore'),
            dest,
          );
          const limit = await limitRun(ctx, target, dest, {
            mode: 'copy',
            sourcePath: version.storageFolder,
            targetPath: 'l-restore',
          });
          rows.push(row('restore', pair, ds, r, limit, problems));
        }
      }
      for (const name of ['photos', 'large'] as const) {
        if (!scenarios.includes(name)) continue;
        const ds = dataSet(name, scale);
        const src = await sourceFor(ds);
        console.log(`seeding ${ds.files.length} ${name} files (${ds.bytes} bytes) ...`);
        await src.seed(ds);
        rows.push((await firstBackup(ctx, src, ds)).row);
      }
    } catch (e) {
      problems.push(`${pairName(pair)}: ${(e as Error).stack ?? String(e)}`);
      console.error(e, engine.recentStderr().slice(-3000));
    } finally {
      await engine.stop();
      for (const s of sides) await s.stop().catch(() => undefined);
      if (!keep) await rm(dir, { recursive: true, force: true });
    }
  }

  const result = {
    benchmark: 'matrix',
    date: started.toISOString(),
    command: `node dist/bench/matrix.bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    machineText: describeMachine(machine),
    loadAtEnd: machineInfo().load,
    scale,
    concurrency: DEFAULT_CONCURRENCY,
    rows,
    problems,
  };
  console.log('\n' + renderTables(rows));
  if (problems.length) console.log('\nproblems:\n' + problems.join('\n'));
  const json = args.get('json');
  if (json) await writeFile(json, JSON.stringify(result, null, 2));
  console.log(`saved ${json ?? (await saveResult('matrix', result))}`);
  if (problems.some((p) => !p.includes('skipped'))) process.exitCode = 1;

  /**
   * A first backup of a data set, measured `rounds` times against the limit, alternating which
   * goes first (each round a new task and new folders, so each copies everything); the row takes
   * the fastest engine round and the fastest limit round. The first round's task is returned
   * for the scenarios that continue from it.
   */
  async function firstBackup(
    ctx: PairContext,
    src: Side,
    ds: DataSet,
  ): Promise<{ task: string; first: EngineFigures; row: MatrixRow }> {
    const engines: EngineFigures[] = [];
    const limits: LimitFigures[] = [];
    let task = '';
    for (let i = 1; i <= rounds; i++) {
      const suffix = i === 1 ? '' : `-r${i}`;
      const t = await createTask(ctx, src, ds, `e-${ds.name}${suffix}`);
      if (i === 1) task = t;
      const runEngine = async () =>
        engines.push(await engineRun(ctx, src, () => ctx.engine.runTask(t, POLL_MS)));
      const runLimit = async () =>
        limits.push(
          await limitRun(ctx, src, ctx.target, {
            mode: 'copy',
            sourcePath: src.folderOf(ds),
            targetPath: `l-${ds.name}${suffix}`,
          }),
        );
      if (i % 2 === 1) {
        await runEngine();
        await runLimit();
      } else {
        await runLimit();
        await runEngine();
      }
    }
    const bestEngine = engines.reduce((a, b) => (b.run.durationMs < a.run.durationMs ? b : a));
    const bestLimit = limits.reduce((a, b) => (b.totalMs < a.totalMs ? b : a));
    const r = row(ds.name, ctx.pair, ds, bestEngine, bestLimit, problems);
    r.rounds = {
      engineSeconds: engines.map((e) => round(e.run.durationMs / 1000, 2)),
      limitSeconds: limits.map((l) => round(l.totalMs / 1000, 2)),
    };
    for (const e of engines.slice(1)) row(ds.name, ctx.pair, ds, e, bestLimit, problems); // checks
    return { task, first: engines[0]!, row: r };
  }

  // ---- helpers with the run's context --------------------------------------------------------

  async function createTask(ctx: PairContext, src: Side, ds: DataSet, to: string): Promise<string> {
    return (
      await ctx.engine.api<{ id: string }>('POST', '/api/tasks', {
        name: `${ds.name} ${pairName(ctx.pair)}`,
        sourceAccountId: src.accountId,
        sourcePath: src.folderOf(ds),
        targetAccountId: ctx.target.accountId,
        targetPath: to,
      })
    ).id;
  }

  async function engineRun(
    ctx: PairContext,
    src: Side,
    start: () => Promise<RunView & { wallMs: number }>,
    dest: Side = ctx.target,
  ): Promise<EngineFigures> {
    for (const s of new Set([src, ctx.target, dest])) await s.clearRequests();
    const localBefore = await treeBytes(ctx.localRoot());
    const io0 = await ctx.engine.io();
    const cpu0 = await ctx.engine.cpuSeconds();
    const { value: run, memory } = await ctx.engine.measure(start);
    const cpuSeconds = (await ctx.engine.cpuSeconds()) - cpu0;
    const io1 = await ctx.engine.io();
    const localAfter = await treeBytes(ctx.localRoot());
    const stray = await strayFiles(ctx.engineTmp, ctx.dataDir);
    const requests: Record<string, RequestSummary> = {};
    for (const s of new Set([src, ctx.target, dest])) {
      const r = await s.requests();
      if (r) requests[s.kind] = r;
    }
    const writeBytes = io1.writeBytes - io0.writeBytes;
    const localTargetBytes = Math.max(0, localAfter - localBefore);
    console.log(
      `  engine: ${run.status} ${run.filesCopied} files ${run.bytesCopied} B in ${round(run.durationMs / 1000, 2)} s, peak ${round(memory.peakRssMiB)} MiB, cpu ${round(cpuSeconds, 2)} s${run.errorMessage ? ` (${run.errorMessage})` : ''}`,
    );
    return {
      run,
      memory,
      cpuSeconds,
      writeBytes,
      localTargetBytes,
      otherWriteBytes: Math.max(0, writeBytes - localTargetBytes),
      strayFiles: stray.files,
      strayBytes: stray.bytes,
      requests,
    };
  }

  async function limitRun(
    ctx: PairContext,
    from: Side,
    to: Side | undefined,
    spec: { mode: 'copy' | 'list'; sourcePath: string; targetPath?: string; only?: string[] },
  ): Promise<LimitFigures> {
    await from.clearRequests();
    await to?.clearRequests();
    const m = await measureLimit(
      {
        ...spec,
        source: { kind: from.kind, settings: from.settings },
        target: to ? { kind: to.kind, settings: to.settings } : undefined,
        concurrency: DEFAULT_CONCURRENCY,
      },
      {},
      nodeFlags,
    );
    const requests: Record<string, RequestSummary> = {};
    for (const s of to ? [from, to] : [from]) {
      const r = await s.requests();
      if (r) requests[s.kind] = r;
    }
    console.log(
      `  limit:  ${m.files} files ${m.bytes} B in ${round(m.totalMs / 1000, 2)} s (list ${round(m.listMs / 1000, 2)} s), peak ${round(m.peakRssMiB)} MiB, cpu ${round(m.cpuSeconds, 2)} s`,
    );
    void ctx;
    return { ...m, requests };
  }
}

/** Restores a version through the API and polls the restore run to its end. */
async function restoreRun(
  engine: EngineProcess,
  versionId: string,
  accountId: string,
  path: string,
): Promise<RunView & { wallMs: number }> {
  const t0 = performance.now();
  const started = await engine.api<{ id: string }>('POST', `/api/versions/${versionId}/restore`, {
    destination: { accountId, path },
  });
  for (;;) {
    const r = await engine.api<RunView>('GET', `/api/runs/${started.id}`);
    if (r.status !== 'queued' && r.status !== 'running')
      return { ...r, wallMs: performance.now() - t0 };
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

export interface EngineFigures {
  run: RunView & { wallMs: number };
  memory: { startRssMiB: number; peakRssMiB: number; sampledMaxRssMiB: number };
  /** Engine CPU seconds (user + system) during the run, API polling included. */
  cpuSeconds: number;
  writeBytes: number;
  localTargetBytes: number;
  otherWriteBytes: number;
  strayFiles: string[];
  strayBytes: number;
  requests: Record<string, RequestSummary>;
}

export type LimitFigures = MeasuredLimit & { requests: Record<string, RequestSummary> };

function row(
  scenario: Scenario,
  pair: Pair,
  ds: DataSet,
  e: EngineFigures,
  l: LimitFigures,
  problems: string[],
): MatrixRow {
  const es = e.run.durationMs / 1000;
  const ls = l.totalMs / 1000;
  const expectCopied =
    scenario === 'repeat'
      ? 0
      : scenario === 'repeat-1pct'
        ? onePercent(ds).length
        : pair.source === 'icloud-photos' && scenario !== 'restore'
          ? l.files
          : ds.files.length;
  const filesDone = e.run.filesCopied;
  if (e.run.status !== 'completed')
    problems.push(
      `${pairName(pair)} ${scenario}: engine run ${e.run.status}: ${e.run.errorMessage}`,
    );
  else if (filesDone !== expectCopied && scenario !== 'restore')
    problems.push(
      `${pairName(pair)} ${scenario}: engine copied ${filesDone}, expected ${expectCopied}`,
    );
  if (e.strayFiles.length)
    problems.push(
      `${pairName(pair)} ${scenario}: files outside SQLite: ${e.strayFiles.join(', ')}`,
    );
  const mb = (bytes: number, s: number) => (s > 0 ? round(bytes / 1e6 / s, 1) : 0);
  return {
    scenario,
    pair: pairName(pair),
    // iCloud Photos generates its library (Live Photos add a video): what was listed is the set.
    dataSet:
      pair.source === 'icloud-photos' && l.files > 0
        ? { name: ds.name, files: l.files, bytes: l.bytes }
        : { name: ds.name, files: ds.files.length, bytes: ds.bytes },
    engine: {
      status: e.run.status,
      seconds: round(es, 2),
      wallSeconds: round(e.run.wallMs / 1000, 2),
      files: filesDone,
      filesUnchanged: e.run.filesUnchanged,
      bytes: e.run.bytesCopied,
      mbPerSec: mb(e.run.bytesCopied, es),
      filesPerSec: es > 0 ? round(filesDone / es, 1) : 0,
      retries: e.run.retries,
      cpuSeconds: round(e.cpuSeconds, 2),
      startRssMiB: round(e.memory.startRssMiB),
      peakRssMiB: round(e.memory.peakRssMiB),
      writeBytes: e.writeBytes,
      localTargetBytes: e.localTargetBytes,
      otherWriteBytes: e.otherWriteBytes,
      bytesOutsideSqlite: e.strayBytes,
      requests: Object.fromEntries(Object.entries(e.requests).map(([k, v]) => [k, v.total])),
      requestDetail: e.requests,
    },
    limit: {
      seconds: round(ls, 2),
      listSeconds: round(l.listMs / 1000, 2),
      files: l.files,
      bytes: l.bytes,
      mbPerSec: mb(l.bytes, ls),
      filesPerSec: ls > 0 ? round(l.files / ls, 1) : 0,
      peakRssMiB: round(l.peakRssMiB),
      cpuSeconds: round(l.cpuSeconds, 2),
      requests: Object.fromEntries(Object.entries(l.requests).map(([k, v]) => [k, v.total])),
    },
    ratio: es > 0 ? round(ls / es, 2) : 0,
    load1: Number(machineInfo().load.split(' ')[0]),
  };
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
