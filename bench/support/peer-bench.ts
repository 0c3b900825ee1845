/**
 * The engine side by side with a peer tool (rclone) on the same data, the same real servers and
 * the same machine (issue #21):
 *
 *   npm run bench -- --peer rclone [--scale 1] [--rounds 3] [--targets local,sftp,s3,webdav]
 *                    [--scenario small,photos,large,repeat] [--concurrency 4] [--dir D] [--keep]
 *                    [--fs ext4]
 *
 * Source: a local folder seeded once (written here, not through the engine) with the scenarios'
 * files; sizes x --scale:
 *   small   10,000 files of 4-64 KiB (100 per folder)
 *   photos  200 files of 2-8 MiB
 *   large   2 files of 2 GiB
 *   repeat  the small files again, nothing changed (engine: the same task again; rclone: the same
 *           `copy` again, which lists the target and compares size and time)
 * Targets: a local folder, OpenSSH sshd (internal-sftp), s3rver, Apache mod_dav, started with the
 * test helpers of test/servers/ (bench/support/target-servers.ts); rclone reaches them through
 * connection strings with the same credentials.
 *
 * Per target one fresh engine (dist/src/main.js, own DATA_DIR, driven over its HTTP API; a local
 * source account, one backup task per scenario and round, task concurrency --concurrency) and, per
 * scenario, `rclone copy <source> <remote> --transfers <concurrency>` under /usr/bin/time. Each
 * round runs engine then rclone, the next round rclone then engine (alternating, so a burst of
 * load from elsewhere hits both), each after a `sync` of the machine (settleWrites); a cell takes
 * the fastest round of each. Engine seconds are its
 * own (run startedAt..finishedAt); rclone's are the process's wall time (start-up included, ~0.1
 * s). CPU = user + system seconds of the process (engine: /proc/<pid>/stat around the run;
 * rclone: /usr/bin/time). Peak RSS: the engine's VmHWM reset before each run, rclone's maximum
 * resident set from /usr/bin/time.
 *
 * --fs ext4: everything above (source, targets, the servers' storage, the engine's data) on a fresh
 * ext4 with a journal, loop-mounted on --dir for the run (root only; see scratch-fs.ts for why:
 * on this machine's journal-less root file system a round's time depends on the deletions of the
 * minutes before it).
 *
 * ratio = rclone seconds / engine seconds: above 1 the engine is faster. The run fails (exit 1)
 * when an engine run fails, or any engine peak RSS passes the 200 MiB budget.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contentBlocks, machineInfo, MiB, round, saveResult } from './bench-util.js';
import { cpuSecondsOf, EngineProcess } from './engine-process.js';
import { mountScratchExt4, type ScratchFs } from './scratch-fs.js';
import {
  startTarget,
  TARGET_KINDS,
  TARGET_LABELS,
  type TargetKind,
  type TargetServer,
} from './target-servers.js';

export const MEMORY_BUDGET_MIB = 200;
/** How often the engine is asked whether its run has ended (see EngineSide.run). */
const POLL_MS = 250;
const SCENARIOS = ['small', 'photos', 'large', 'repeat'] as const;
type PeerScenario = (typeof SCENARIOS)[number];
const SCENARIO_LABELS: Record<PeerScenario, string> = {
  small: 'many small files (4-64 KiB)',
  photos: 'photos (2-8 MiB)',
  large: 'large files',
  repeat: 'no-change re-run',
};

interface Measured {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  ok: boolean;
  detail?: string;
}

interface Cell {
  target: TargetKind;
  scenario: PeerScenario;
  engine: Measured[];
  peer: Measured[];
}

/** Deterministic size in [lo, hi] for file i. */
function spread(i: number, lo: number, hi: number): number {
  return lo + ((i * 2654435761) % (hi - lo + 1));
}

interface SeedPlan {
  folder: string;
  files: Array<{ rel: string; size: number }>;
}

function plans(scale: number): Record<'small' | 'photos' | 'large', SeedPlan> {
  const smallN = Math.max(1, Math.round(10_000 * scale));
  const photoN = Math.max(1, Math.round(200 * scale));
  const largeSize = Math.max(1, Math.round(2048 * scale)) * MiB;
  return {
    small: {
      folder: 'small',
      files: Array.from({ length: smallN }, (_, i) => ({
        rel: `d${String(Math.floor(i / 100)).padStart(3, '0')}/f${String(i).padStart(5, '0')}.bin`,
        size: spread(i, 4 * 1024, 64 * 1024),
      })),
    },
    photos: {
      folder: 'photos',
      files: Array.from({ length: photoN }, (_, i) => ({
        rel: `IMG_${String(i).padStart(4, '0')}.jpg`,
        size: spread(i, 2 * MiB, 8 * MiB),
      })),
    },
    large: {
      folder: 'large',
      files: [0, 1].map((i) => ({ rel: `large-${i}.bin`, size: largeSize })),
    },
  };
}

async function seed(root: string, plan: SeedPlan): Promise<number> {
  let bytes = 0;
  for (const [i, f] of plan.files.entries()) {
    const p = join(root, plan.folder, f.rel);
    await mkdir(join(p, '..'), { recursive: true });
    const out = createWriteStream(p);
    for (const block of contentBlocks(f.size, 7919 * (i + 1) + plan.folder.length)) {
      if (!out.write(block)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    bytes += f.size;
  }
  return bytes;
}

/** rclone from Debian, installed with apt-get when missing (the machine reaches Debian's mirror). */
function ensureRclone(): string {
  const found = spawnSync('rclone', ['version'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.split('\n')[0]!.trim();
  console.log('rclone is missing: apt-get install -y rclone');
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'rclone'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return execFileSync('rclone', ['version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
}

async function runRclone(
  source: string,
  remote: string,
  concurrency: number,
  dir: string,
): Promise<Measured> {
  const timeOut = join(dir, 'rclone-time.txt');
  const child = spawn(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S %M',
      '-o',
      timeOut,
      'rclone',
      '--config',
      '',
      'copy',
      source,
      remote,
      '--transfers',
      String(concurrency),
      '-q',
    ],
    // AWS_CA_BUNDLE (set on some machines) makes rclone's S3 backend refuse its own transport;
    // everything here is plain HTTP on loopback.
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AWS_CA_BUNDLE: '' } },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const [code] = (await once(child, 'exit')) as [number | null];
  const line = (await readFile(timeOut, 'utf8')).trim().split('\n').pop() ?? '';
  const [wall, user, sys, maxKiB] = line.split(' ').map(Number);
  return {
    seconds: wall ?? NaN,
    cpuSeconds: round((user ?? 0) + (sys ?? 0), 2),
    peakRssMiB: round((maxKiB ?? 0) / 1024),
    ok: code === 0,
    detail: code === 0 ? undefined : stderr,
  };
}

class EngineSide {
  private sourceId = '';
  private targetId = '';
  private constructor(readonly engine: EngineProcess) {}

  static async start(
    dir: string,
    sourceRoot: string,
    server: TargetServer,
    n: number,
  ): Promise<EngineSide> {
    const engineTmp = join(dir, `engine-tmp-${server.kind}-${n}`);
    await mkdir(engineTmp, { recursive: true });
    const engine = await EngineProcess.start({
      dataDir: join(dir, `engine-data-${server.kind}-${n}`),
      env: { TMPDIR: engineTmp },
    });
    const side = new EngineSide(engine);
    side.sourceId = (
      await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind: 'local',
        name: 'bench source',
        options: { root: sourceRoot },
      })
    ).id;
    side.targetId = (
      await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind: server.kind,
        name: `bench ${server.kind}`,
        options: server.accountOptions,
      })
    ).id;
    return side;
  }

  async createTask(folder: string, to: string, concurrency: number): Promise<string> {
    return (
      await this.engine.api<{ id: string }>('POST', '/api/tasks', {
        name: `${folder} -> ${to}`,
        sourceAccountId: this.sourceId,
        sourcePath: folder,
        targetAccountId: this.targetId,
        targetPath: to,
        concurrency,
      })
    ).id;
  }

  async run(taskId: string, expectFiles: number | undefined): Promise<Measured> {
    const e = this.engine;
    const cpu0 = await cpuSecondsOf(e.pid);
    // The run's seconds are the engine's own (startedAt..finishedAt), so how often it is asked
    // changes nothing in them; but each poll (token check, ownership, run row) is ~2-4 ms of the
    // engine's one JavaScript thread, and at every 50 ms that was ~8 % of a photos run's CPU,
    // taken from the run being measured (issue #21). rclone is not polled.
    const { value: run, memory } = await e.measure(() => e.runTask(taskId, POLL_MS));
    const cpu = (await cpuSecondsOf(e.pid)) - cpu0;
    const ok =
      run.status === 'completed' && (expectFiles === undefined || run.filesCopied === expectFiles);
    return {
      seconds: round(run.durationMs / 1000, 2),
      cpuSeconds: round(cpu, 2),
      peakRssMiB: round(memory.peakRssMiB),
      ok,
      detail: ok
        ? undefined
        : `${run.status}: ${run.errorMessage ?? ''} (${run.filesCopied} copied)`,
    };
  }

  stop(): Promise<void> {
    return this.engine.stop();
  }
}

function best(ms: Measured[]): Measured | undefined {
  const good = ms.filter((m) => m.ok);
  if (good.length === 0) return undefined;
  return {
    seconds: Math.min(...good.map((m) => m.seconds)),
    cpuSeconds: Math.min(...good.map((m) => m.cpuSeconds)),
    peakRssMiB: Math.max(...ms.map((m) => m.peakRssMiB)),
    ok: true,
  };
}

export function renderPeerTable(cells: Cell[], scenarios: readonly PeerScenario[]): string {
  const targets = [...new Set(cells.map((c) => c.target))];
  const lines = [
    `| target | ${scenarios.map((s) => SCENARIO_LABELS[s]).join(' | ')} |`,
    `| --- | ${scenarios.map(() => '---').join(' | ')} |`,
  ];
  for (const t of targets) {
    const row = scenarios.map((s) => {
      const c = cells.find((x) => x.target === t && x.scenario === s);
      const e = c && best(c.engine);
      const p = c && best(c.peer);
      if (!e || !p) return 'failed';
      const ratio = p.seconds / Math.max(e.seconds, 0.001);
      return `${round(ratio, 2)}x (${e.seconds} s vs ${p.seconds} s; CPU ${e.cpuSeconds} vs ${p.cpuSeconds})`;
    });
    lines.push(`| ${TARGET_LABELS[t]} | ${row.join(' | ')} |`);
  }
  lines.push('', `| target | ${scenarios.map((s) => SCENARIO_LABELS[s]).join(' | ')} |`);
  lines.push(`| --- | ${scenarios.map(() => '---').join(' | ')} |`);
  for (const t of targets) {
    const row = scenarios.map((s) => {
      const c = cells.find((x) => x.target === t && x.scenario === s);
      const e = Math.max(0, ...(c?.engine.map((m) => m.peakRssMiB) ?? []));
      const p = Math.max(0, ...(c?.peer.map((m) => m.peakRssMiB) ?? []));
      return `${e > MEMORY_BUDGET_MIB ? `**${e}**` : e} / ${p} MiB`;
    });
    lines.push(`| ${TARGET_LABELS[t]} peak RSS engine / rclone | ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Writes every dirty page of the machine to disk before a measured run, so that each side pays
 * for its own writes only. rclone 1.60 does not sync what it copies: the up to 1 GB it left in
 * the page cache was written while the next run was measured, and the engine's durability
 * barrier (a syncfs of the target's file system, before any record reaches the ledger) waited
 * for that too when the engine came next. What each side's own writes cost stays in its figures:
 * the engine's barriers inside its run, rclone's nothing (its data is not durable when it exits).
 */
function settleWrites(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

export async function runPeerBench(args: Map<string, string>): Promise<void> {
  const peer = args.get('peer');
  if (peer !== 'rclone') throw new Error(`--peer: only 'rclone' is supported (got '${peer}')`);
  const scale = Number(args.get('scale') ?? 1);
  const rounds = Math.max(1, Number(args.get('rounds') ?? 3));
  const concurrency = Number(args.get('concurrency') ?? 4);
  const targets = (args.get('targets') ?? TARGET_KINDS.join(',')).split(',') as TargetKind[];
  for (const t of targets) if (!TARGET_KINDS.includes(t)) throw new Error(`unknown target ${t}`);
  const scenarios = (args.get('scenario') ?? SCENARIOS.join(',')).split(',') as PeerScenario[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
  const root = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-peer'));
  const rcloneVersion = ensureRclone();
  const machineStart = machineInfo();

  await rm(root, { recursive: true, force: true });
  const sourceRoot = join(root, 'source');
  const seedPlans = plans(scale);
  const wanted = new Set<string>(scenarios.map((s) => (s === 'repeat' ? 'small' : s)));
  const fsKind = args.get('fs');
  if (fsKind !== undefined && fsKind !== 'ext4') {
    throw new Error(`--fs: only 'ext4' is supported (got '${fsKind}')`);
  }
  // Room for the source and, per target, what its rounds keep (small files and photos of both
  // sides until the target's last round; one side's large files at a time), plus the engine's
  // data and the servers' own files.
  const sourceBytes = Object.entries(seedPlans)
    .filter(([name]) => wanted.has(name))
    .reduce((n, [, plan]) => n + plan.files.reduce((m, f) => m + f.size, 0), 0);
  const scratch: ScratchFs | undefined =
    fsKind === 'ext4'
      ? await mountScratchExt4(root, sourceBytes * (2 * rounds + 2) + 4 * 1024 ** 3)
      : undefined;
  if (scratch) console.log(`--fs ext4: ${root} is a ${scratch.description}`);
  try {
    const seeded: Record<string, { files: number; bytes: number }> = {};
    for (const [name, plan] of Object.entries(seedPlans)) {
      if (!wanted.has(name)) continue;
      seeded[name] = { files: plan.files.length, bytes: await seed(sourceRoot, plan) };
      console.log(`seeded ${name}: ${seeded[name].files} files, ${seeded[name].bytes} bytes`);
    }

    const cells: Cell[] = [];
    const cell = (target: TargetKind, scenario: PeerScenario): Cell => {
      let c = cells.find((x) => x.target === target && x.scenario === scenario);
      if (!c) cells.push((c = { target, scenario, engine: [], peer: [] }));
      return c;
    };
    for (const kind of targets) {
      const server = await startTarget(kind, root);
      let engine: EngineSide | undefined;
      // What a side wrote is removed only when the target's rounds are over (the large files'
      // right away: they are few and big). Removing 10,000 files just before the other side
      // runs made that side pay for it: on an ext4 without a journal (this machine's), each new
      // file then scans the inode bitmap past every inode freed in the last ~30-60 s
      // (`recently_deleted` under `__ext4_new_inode`, 0.4-1 ms of kernel time per file in `perf`),
      // so whichever side followed a removal ran slower.
      const toClear: string[] = [];
      const clearLater = async (scenario: PeerScenario, path: string) => {
        if (scenario === 'large') await server.clear(path);
        else toClear.push(path);
      };
      try {
        engine = await EngineSide.start(root, sourceRoot, server, 0);
        for (let r = 0; r < rounds; r++) {
          const engineFirst = r % 2 === 0;
          // 'repeat' re-runs the small files' copy: without 'small' asked for, that first copy
          // still runs (it is the setup), unreported.
          const reportSmall = scenarios.includes('small');
          const toRun =
            !reportSmall && scenarios.includes('repeat')
              ? ['small' as const, ...scenarios]
              : scenarios;
          for (const scenario of toRun) {
            if (scenario === 'repeat') continue; // run right after 'small', below
            const report = (m: Measured, side: 'engine' | 'rclone') => {
              if (scenario === 'small' && !reportSmall) return;
              const c = cell(kind, scenario);
              (side === 'engine' ? c.engine : c.peer).push(m);
              log(kind, scenario, side, r, m);
            };
            const plan = seedPlans[scenario];
            const to = `${scenario}-r${r}`;
            const src = join(sourceRoot, plan.folder);
            const sides: Array<() => Promise<void>> = [
              async () => {
                const task = await engine!.createTask(plan.folder, `engine-${to}`, concurrency);
                report(await engine!.run(task, plan.files.length), 'engine');
                if (scenario === 'small' && scenarios.includes('repeat')) {
                  settleWrites();
                  const again = await engine!.run(task, 0);
                  cell(kind, 'repeat').engine.push(again);
                  log(kind, 'repeat', 'engine', r, again);
                }
                await clearLater(scenario, `engine-${to}`);
              },
              async () => {
                const remote = server.rcloneRemote(`rclone-${to}`);
                report(await runRclone(src, remote, concurrency, root), 'rclone');
                if (scenario === 'small' && scenarios.includes('repeat')) {
                  settleWrites();
                  const again = await runRclone(src, remote, concurrency, root);
                  cell(kind, 'repeat').peer.push(again);
                  log(kind, 'repeat', 'rclone', r, again);
                }
                await clearLater(scenario, `rclone-${to}`);
              },
            ];
            if (!engineFirst) sides.reverse();
            for (const s of sides) {
              settleWrites();
              await s();
            }
          }
        }
      } finally {
        await engine?.stop();
        for (const path of toClear) await server.clear(path);
        await server.stop();
      }
    }

    const table = renderPeerTable(cells, scenarios);
    const engineRuns = cells.flatMap((c) => c.engine);
    const peakMiB = Math.max(...engineRuns.map((m) => m.peakRssMiB));
    const failed = [...engineRuns, ...cells.flatMap((c) => c.peer)].filter((m) => !m.ok);
    const command = `npm run bench -- --peer rclone --scale ${scale} --rounds ${rounds} --targets ${targets.join(',')} --scenario ${scenarios.join(',')} --concurrency ${concurrency}${scratch ? ' --fs ext4' : ''}`;
    const result = {
      benchmark: 'peer',
      peer: rcloneVersion,
      date: new Date().toISOString(),
      command,
      machineAtStart: machineStart,
      fileSystem: scratch?.description ?? `the folder ${root} as it is`,
      machineAtEnd: machineInfo(),
      seeded,
      cells,
      table,
      acceptance: {
        budgetMiB: MEMORY_BUDGET_MIB,
        enginePeakRssMiB: peakMiB,
        failed: failed.length,
      },
    };
    console.log(
      `\n${command}\n${rcloneVersion}; load at start ${machineStart.load}, at end ${result.machineAtEnd.load}\n`,
    );
    console.log(table);
    console.log(`saved ${await saveResult('peer', result)}`);
    if (peakMiB > MEMORY_BUDGET_MIB) {
      console.error(
        `FAIL: an engine run peaked at ${peakMiB} MiB, over the ${MEMORY_BUDGET_MIB} MiB budget`,
      );
      process.exitCode = 1;
    }
    if (failed.length > 0) {
      console.error(
        `FAIL: ${failed.length} run(s) failed: ${failed.map((f) => f.detail).join('; ')}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await scratch?.release({ keepImage: args.has('keep') });
  }
  if (!args.has('keep')) await rm(root, { recursive: true, force: true });
}

function log(t: TargetKind, s: PeerScenario, who: string, r: number, m: Measured): void {
  console.log(
    `${t} ${s} round ${r} ${who}: ${m.ok ? '' : `FAILED (${m.detail}) `}${m.seconds} s, CPU ${m.cpuSeconds} s, peak ${m.peakRssMiB} MiB`,
  );
}
