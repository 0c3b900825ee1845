/**
 * Cluster mode through the real engine: PostgreSQL (a fresh schema of the local server), Redis (a
 * unique queue prefix), one API process (`ROLE=api`) and 1 or 2 worker processes (`ROLE=worker`),
 * each `dist/src/main.js` with the engine's Node flags, against a cloud emulator in a process of
 * its own (`support/emulator-host.ts`). Per round:
 *
 *   - N tasks (default 8), each copying its own folder of F files (default 40, sizes log-uniform
 *     256 KiB - 2 MiB, seeded with the emulator's helper) from the emulator to a local folder;
 *   - fresh worker processes (1 or 2, as the round says), then every task's run is queued at once;
 *   - measured: wall time from the first "Run now" to the last run's end, runs per worker (from the
 *     workers' logs), MB/s over that wall time, each worker's peak RSS (VmHWM of its whole life,
 *     the process is new per round) and the API's peak for the round;
 *   - verified: every run completed and was executed exactly once (one "executing run" log line
 *     in the whole cluster, attempt 1), one complete version per task, and the SHA-256 and size of
 *     every local copy equal to what was seeded.
 *
 *   npm run bench:cluster -- [--workers 1,2,1,2] [--tasks 8] [--files 40] [--cloud dropbox]
 *                            [--dir D] [--keep]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ENGINE_NODE_FLAGS } from '../src/engine-flags.js';
import {
  describeMachine,
  machineInfo,
  MiB,
  parseArgs,
  round,
  saveResult,
  sha256File,
} from './support/bench-util.js';
import { cloudEntry } from './support/cloud-table.js';
import { EmulatorProcess } from './support/emulator-process.js';
import { EngineProcess, sleep, type RunView } from './support/engine-process.js';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MIN_FILE = 256 * 1024;
const MAX_FILE = 2 * MiB;

/** A worker node: `ROLE=worker node <flags> dist/src/main.js`, its log kept for run ids. */
class WorkerNode {
  private out = '';

  private constructor(readonly child: ChildProcess) {
    const keep = (c: Buffer) => {
      this.out += c.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  static async start(env: Record<string, string>): Promise<WorkerNode> {
    const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, 'dist/src/main.js'], {
      env: { ...process.env, ...env, ROLE: 'worker' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const w = new WorkerNode(child);
    for (let i = 0; !w.out.includes('worker started'); i++) {
      if (child.exitCode !== null || i > 600)
        throw new Error(`worker did not start (exit ${child.exitCode}):\n${w.out}`);
      await sleep(50);
    }
    return w;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** [run id, attempt] per "executing run" line of this worker's log. */
  executed(): Array<[string, number]> {
    return [...this.out.matchAll(/executing run ([0-9a-f-]{36}) on \S+ \(attempt (\d+)\)/g)].map(
      (m) => [m[1]!, Number(m[2])],
    );
  }

  async memory(): Promise<{ rssMiB: number; peakMiB: number }> {
    const text = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return {
      rssMiB: Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? NaN) / 1024,
      peakMiB: Number(/VmHWM:\s+(\d+) kB/.exec(text)?.[1] ?? NaN) / 1024,
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** CPU seconds (user + system) a process has used so far; clock ticks of 1/100 s (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Deterministic sizes, log-uniform between MIN_FILE and MAX_FILE. */
function fileSizes(count: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const lo = Math.log(MIN_FILE);
  const hi = Math.log(MAX_FILE);
  return Array.from({ length: count }, () => Math.round(Math.exp(lo + (hi - lo) * next())));
}

interface RoundResult {
  round: number;
  workers: number;
  runs: number;
  filesCopied: number;
  bytesCopied: number;
  wallSeconds: number;
  mbPerSec: number;
  mibPerSec: number;
  /** Median of the runs' own durations (startedAt -> finishedAt), seconds. */
  medianRunSeconds: number;
  retries: number;
  runsPerWorker: number[];
  workerIdleRssMiB: number[];
  workerPeakRssMiB: number[];
  apiPeakRssMiB: number;
  /** CPU seconds used during the round (from the queueing to the last run's end). */
  cpuSeconds: { workers: number[]; api: number; emulator: number; driver: number };
  loadAtStart: string;
  checks: {
    allCompleted: boolean;
    executedExactlyOnce: boolean;
    oneCompleteVersionPerTask: boolean;
    bytesMatch: boolean;
    mismatches: string[];
  };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const rounds = (args.get('workers') ?? '1,2,1,2').split(',').map(Number);
  if (rounds.some((n) => !Number.isInteger(n) || n < 1 || n > 8))
    throw new Error('--workers is a list of worker counts, e.g. 1,2,1,2');
  const taskCount = Number(args.get('tasks') ?? 8);
  const fileCount = Number(args.get('files') ?? 40);
  const entry = cloudEntry(args.get('cloud') ?? 'dropbox');
  const root = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-cluster'));
  const keep = args.has('keep');
  const machine = machineInfo();

  await rm(root, { recursive: true, force: true });
  const localRoot = join(root, 'local');
  const emulatorTmp = join(root, 'emulator-tmp');
  const engineTmp = join(root, 'engine-tmp');
  for (const d of [localRoot, emulatorTmp, engineTmp]) await mkdir(d, { recursive: true });

  const schema = `cbe_bench_${randomBytes(5).toString('hex')}`;
  const prefix = `cbe-bench-${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();

  const env: Record<string, string> = {
    DATABASE_URL: POSTGRES_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SECRET_KEY: randomBytes(32).toString('hex'),
    TMPDIR: engineTmp,
  };

  console.log(`${entry.kind}: starting the emulator ...`);
  const emulator = await EmulatorProcess.start(entry.kind, {}, { TMPDIR: emulatorTmp });
  let api: EngineProcess | undefined;
  let workers: WorkerNode[] = [];
  try {
    // Seed: task i reads bench-src/t<i>/, F files of its own.
    const seeded = new Map<string, { sha256: string; size: number }>();
    let seededBytes = 0;
    for (let t = 0; t < taskCount; t++) {
      const sizes = fileSizes(fileCount, 1000 + t);
      for (let f = 0; f < fileCount; f++) {
        const name = `d${f % 4}/f${String(f).padStart(3, '0')}.bin`;
        const s = await emulator.call('seedFile', {
          path: `bench-src/t${t}/${name}`,
          size: sizes[f]!,
          seed: 20261122 + t * 1000 + f,
        });
        seeded.set(`t${t}/${name}`, s);
        seededBytes += s.size;
      }
    }
    console.log(
      `seeded ${taskCount} x ${fileCount} files, ${seededBytes} bytes (${round(seededBytes / MiB)} MiB)`,
    );

    api = await EngineProcess.start({
      dataDir: join(root, 'api-data'),
      env: { ...env, ROLE: 'api' },
    });
    const a = api;
    const cloud = await a.api<{ id: string }>('POST', '/api/accounts', {
      kind: entry.kind,
      name: `bench ${entry.kind}`,
      options: entry.accountOptions(emulator.info),
    });
    const local = await a.api<{ id: string }>('POST', '/api/accounts', {
      kind: 'local',
      name: 'bench local',
      options: { root: localRoot },
    });

    const results: RoundResult[] = [];
    for (const [r, workerCount] of rounds.entries()) {
      const taskIds: string[] = [];
      for (let t = 0; t < taskCount; t++) {
        const task = await a.api<{ id: string }>('POST', '/api/tasks', {
          name: `r${r} t${t}`,
          sourceAccountId: cloud.id,
          sourcePath: `bench-src/t${t}`,
          targetAccountId: local.id,
          targetPath: `r${r}/t${t}`,
        });
        taskIds.push(task.id);
      }
      workers = await Promise.all(
        Array.from({ length: workerCount }, (_, i) =>
          WorkerNode.start({ ...env, DATA_DIR: join(root, `worker-${r}-${i}`) }),
        ),
      );
      const workerIdle = await Promise.all(workers.map((w) => w.memory()));
      await writeFile(`/proc/${a.pid}/clear_refs`, '5').catch(() => undefined);
      const loadAtStart = (await readFile('/proc/loadavg', 'utf8'))
        .split(' ')
        .slice(0, 3)
        .join(' ');
      console.log(`round ${r + 1}: ${workerCount} worker(s), ${taskCount} runs queued at once ...`);

      const pids = [...workers.map((w) => w.pid), a.pid, emulator.child.pid!];
      const cpu0 = await Promise.all(pids.map(cpuSeconds));
      const driver0 = process.cpuUsage();
      const t0 = performance.now();
      const runIds = (
        await Promise.all(
          taskIds.map((id) => a.api<{ id: string }>('POST', `/api/tasks/${id}/run`)),
        )
      ).map((x) => x.id);
      const finished = new Map<string, RunView & { finishedAt?: string; startedAt?: string }>();
      let lastEnd = t0;
      while (finished.size < runIds.length) {
        for (const id of runIds) {
          if (finished.has(id)) continue;
          const run = await a.api<RunView>('GET', `/api/runs/${id}`);
          if (run.status !== 'queued' && run.status !== 'running') {
            finished.set(id, run);
            lastEnd = performance.now();
          }
        }
        if (finished.size < runIds.length) await sleep(50);
      }
      const wallSeconds = (lastEnd - t0) / 1000;
      const driverCpu = process.cpuUsage(driver0);
      const cpu = (await Promise.all(pids.map(cpuSeconds))).map((c, i) => round(c - cpu0[i]!, 2));
      const apiMemory = await a.status();
      const workerMemory = await Promise.all(workers.map((w) => w.memory()));
      const executed = workers.map((w) => w.executed());
      await Promise.all(workers.map((w) => w.stop()));
      workers = [];

      // Checks.
      const runs = runIds.map((id) => finished.get(id)!);
      const allExecutions = executed.flat();
      const executedExactlyOnce =
        allExecutions.length === runIds.length &&
        runIds.every((id) => allExecutions.filter(([x]) => x === id).length === 1) &&
        allExecutions.every(([, attempt]) => attempt === 1);
      const mismatches: string[] = [];
      let oneCompleteVersionPerTask = true;
      for (const [t, taskId] of taskIds.entries()) {
        const versions = await a.api<Array<{ id: string; status: string }>>(
          'GET',
          `/api/tasks/${taskId}/versions`,
        );
        if (versions.length !== 1 || versions[0]!.status !== 'complete') {
          oneCompleteVersionPerTask = false;
          continue;
        }
        const files = await a.versionFiles(versions[0]!.id);
        if (files.length !== fileCount) mismatches.push(`t${t}: ${files.length} files in version`);
        for (const f of files) {
          const want = seeded.get(`t${t}/${f.path}`);
          const got = await sha256File(join(localRoot, f.storedPath)).catch(() => null);
          if (!want || !got || got.sha256 !== want.sha256 || got.size !== want.size)
            mismatches.push(`t${t}/${f.path}`);
        }
      }
      const bytesCopied = runs.reduce((n, x) => n + x.bytesCopied, 0);
      const durations = runs.map((x) => x.durationMs / 1000).sort((p, q) => p - q);
      const result: RoundResult = {
        round: r + 1,
        workers: workerCount,
        runs: runs.length,
        filesCopied: runs.reduce((n, x) => n + x.filesCopied, 0),
        bytesCopied,
        wallSeconds: round(wallSeconds, 2),
        mbPerSec: round(bytesCopied / 1e6 / wallSeconds, 1),
        mibPerSec: round(bytesCopied / MiB / wallSeconds, 1),
        medianRunSeconds: round(durations[Math.floor(durations.length / 2)] ?? NaN, 2),
        retries: runs.reduce((n, x) => n + x.retries, 0),
        runsPerWorker: executed.map((e) => e.length),
        workerIdleRssMiB: workerIdle.map((m) => round(m.rssMiB)),
        workerPeakRssMiB: workerMemory.map((m) => round(m.peakMiB)),
        apiPeakRssMiB: round(apiMemory.hwmKiB / 1024),
        cpuSeconds: {
          workers: cpu.slice(0, workerCount),
          api: cpu[workerCount]!,
          emulator: cpu[workerCount + 1]!,
          driver: round((driverCpu.user + driverCpu.system) / 1e6, 2),
        },
        loadAtStart,
        checks: {
          allCompleted: runs.every(
            (x) => x.status === 'completed' && x.filesCopied === fileCount && x.filesFailed === 0,
          ),
          executedExactlyOnce,
          oneCompleteVersionPerTask,
          bytesMatch: mismatches.length === 0 && bytesCopied === seededBytes,
          mismatches: mismatches.slice(0, 20),
        },
      };
      results.push(result);
      console.log(
        `  ${result.wallSeconds} s, ${result.mbPerSec} MB/s, runs per worker ${result.runsPerWorker.join('/')}, ` +
          `worker peak RSS ${result.workerPeakRssMiB.join('/')} MiB, API peak ${result.apiPeakRssMiB} MiB, ` +
          `CPU s ${JSON.stringify(result.cpuSeconds)}, ` +
          `checks ${JSON.stringify({ ...result.checks, mismatches: result.checks.mismatches.length })}`,
      );
    }

    const result = {
      benchmark: 'cluster',
      date: new Date().toISOString(),
      command: `node dist/bench/cluster.bench.js --workers ${rounds.join(',')} --tasks ${taskCount} --files ${fileCount} --cloud ${entry.kind}`,
      machine,
      machineText: describeMachine(machine),
      cloud: entry.kind,
      tasks: taskCount,
      filesPerTask: fileCount,
      bytesPerRound: seededBytes,
      engineNodeFlags: ENGINE_NODE_FLAGS,
      settings: 'engine defaults: BACKUP_PARALLEL_RUNS 2 per worker, task concurrency 4',
      emulatorPeakRssMiB: round(await emulator.peakRssMiB()),
      rounds: results,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved ${await saveResult('cluster', result)}`);
    const ok = results.every(
      (x) =>
        x.checks.allCompleted &&
        x.checks.executedExactlyOnce &&
        x.checks.oneCompleteVersionPerTask &&
        x.checks.bytesMatch,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
    await emulator.stop();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
    if (!keep) await rm(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
