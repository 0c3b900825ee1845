/**
 * Google Drive -> S3 / WebDAV / SFTP through the real engine (issue #11): the Google Drive
 * emulator in its own process, seeded with its own helper (not through the engine) with one large
 * file under `bench-big/` and many small files (4-64 KiB) under `bench-small/`; the engine in its
 * own process (own DATA_DIR, ENGINE_NODE_FLAGS), driven over its HTTP API; the three real target
 * servers on loopback, started with the test helpers of `test/servers/` (s3rver, Apache httpd with
 * mod_dav and Basic auth, OpenSSH's sshd with a throwaway user and key).
 *
 * For each target, two backup tasks run one after the other: the large file, then the small files.
 * Each reports seconds, MiB/s, files/s and the engine's peak RSS for that task (VmHWM, reset
 * before each task through /proc/<pid>/clear_refs, cross-checked by sampling VmRSS). Bytes are
 * checked on the server's own disk, not through a connector: SHA-256 of the large file and of a
 * sample of small files as s3rver's object files, Apache's DocumentRoot and the sftp user's home
 * hold them, against the SHA-256 of the seeded bytes.
 *
 *   npm run bench:targets -- [--targets s3,webdav,sftp] [--size-mib 1024] [--small-files 2000]
 *                            [--sample 100] [--dir D] [--keep]
 *                            [--engine per-target|per-task|shared]
 *
 * --engine: per-target (default) restarts the engine before each target's first task, so each
 * target's figures are those of an engine that has only ever talked to Google Drive and that
 * target, as in an install that backs up to one NAS or bucket; per-task (or the older
 * --fresh-engine-per-task) restarts it before every task; shared runs everything in one engine,
 * whose RSS then also holds what earlier targets left (their SDKs, a larger heap).
 */
// tsconfig.build.json does not include test/servers: its s3rver module declaration comes in here.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration
/// <reference path="../test/servers/s3rver.d.ts" />
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startWebDavServer } from '../test/servers/apache-webdav.server.js';
import { startSftpServer } from '../test/servers/openssh-sftp.server.js';
import { startS3Server } from '../test/servers/s3rver.server.js';
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
import { EngineProcess, type PhaseMemory } from './support/engine-process.js';

const MEMORY_BUDGET_MIB = 200;

/** A running target server: engine account options and where a stored path lands on disk. */
interface TargetServer {
  accountOptions: Record<string, unknown>;
  diskPath(storedPath: string): string;
  stop(): Promise<void>;
}

/** One entry per target kind; adding a target is one entry. */
const TARGETS: Record<string, { label: string; start(): Promise<TargetServer> }> = {
  s3: {
    label: 'S3 (s3rver 3.7.1)',
    start: async () => {
      const s = await startS3Server({ bucket: 'cbe-bench' });
      return {
        accountOptions: s.accountOptions,
        // s3rver keeps one '<key>._S3rver_object' file per object under <dir>/<bucket>/.
        diskPath: (p) => join(s.directory, s.bucket, `${p}._S3rver_object`),
        stop: () => s.stop(),
      };
    },
  },
  webdav: {
    label: 'WebDAV (Apache httpd mod_dav, Basic auth)',
    start: async () => {
      const s = await startWebDavServer();
      return {
        accountOptions: {
          url: s.basicUrl,
          username: s.basic.username,
          password: s.basic.password,
          authType: 'basic',
        },
        diskPath: (p) => join(s.basicDir, p),
        stop: () => s.stop(),
      };
    },
  },
  sftp: {
    label: 'SFTP (OpenSSH sshd, internal-sftp, ed25519 key)',
    start: async () => {
      const s = await startSftpServer();
      return {
        accountOptions: {
          host: s.host,
          port: s.port,
          username: s.username,
          privateKey: s.privateKey,
          passphrase: s.passphrase,
          root: s.root,
          hostKeyFingerprint: s.hostKeyFingerprint,
        },
        diskPath: (p) => join(s.root, p),
        stop: () => s.stop(),
      };
    },
  },
};

interface TaskResult {
  target: string;
  task: 'big' | 'small';
  status: string;
  errorMessage: string | null;
  filesCopied: number;
  filesFailed: number;
  bytesCopied: number;
  retries: number;
  seconds: number;
  wallSeconds: number;
  mibPerSec: number;
  filesPerSec: number;
  memory: PhaseMemory;
  /** CPU seconds (user + system) the engine process spent on the task: robust to a busy machine. */
  engineCpuSeconds: number;
  verified: { checked: number; matched: number };
  /** The run's error events (first 5), when a file failed. */
  errors: string[];
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 10 ms). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function smallSize(i: number): number {
  // 4 KiB .. 64 KiB, spread deterministically.
  return 4096 + ((i * 2654435761) % (60 * 1024 + 1));
}

async function main(): Promise<void> {
  const args = parseArgs();
  const targetKinds = (args.get('targets') ?? 's3,webdav,sftp').split(',').filter(Boolean);
  for (const k of targetKinds) if (!TARGETS[k]) throw new Error(`unknown target '${k}'`);
  const sizeMiB = Number(args.get('size-mib') ?? 1024);
  const bigSize = Math.round(sizeMiB * MiB);
  const smallCount = Number(args.get('small-files') ?? 2000);
  const sampleCount = Math.min(Number(args.get('sample') ?? 100), smallCount);
  const root = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-targets'));
  const keep = args.has('keep');
  const engineMode = args.has('fresh-engine-per-task')
    ? 'per-task'
    : (args.get('engine') ?? 'per-target');
  if (!['per-target', 'per-task', 'shared'].includes(engineMode)) {
    throw new Error(`--engine must be per-target, per-task or shared (got '${engineMode}')`);
  }
  const machine = machineInfo();
  const drive = cloudEntry('google-drive');

  await rm(root, { recursive: true, force: true });
  const emulatorTmp = join(root, 'emulator-tmp');
  const engineTmp = join(root, 'engine-tmp');
  for (const d of [emulatorTmp, engineTmp]) await mkdir(d, { recursive: true });

  console.log(`google-drive: starting the emulator, seeding ${sizeMiB} MiB + ${smallCount} files`);
  const emulator = await EmulatorProcess.start('google-drive', {}, { TMPDIR: emulatorTmp });
  let engine: EngineProcess | undefined;
  try {
    const bigName = `big-${sizeMiB}MiB.bin`;
    const big = await emulator.call('seedFile', {
      path: `bench-big/${bigName}`,
      size: bigSize,
      seed: 20261122,
    });
    const smallSha = new Map<string, string>();
    let smallBytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < smallCount; i++) {
      // 20 folders of 100 files: a tree, not one flat folder.
      const rel = `d${String(i % 20).padStart(2, '0')}/f${String(i).padStart(5, '0')}.bin`;
      const size = smallSize(i);
      const s = await emulator.call('seedFile', { path: `bench-small/${rel}`, size, seed: i + 1 });
      smallSha.set(rel, s.sha256);
      smallBytes += size;
    }
    console.log(
      `seeded: big sha256 ${big.sha256}; ${smallCount} small files, ${smallBytes} bytes in ${round((performance.now() - t0) / 1000)} s`,
    );

    const engineOptions = { dataDir: join(root, 'engine-data'), env: { TMPDIR: engineTmp } };
    engine = await EngineProcess.start(engineOptions);
    let e = engine;
    const idle = await e.status();
    const source = await e.api<{ id: string }>('POST', '/api/accounts', {
      kind: 'google-drive',
      name: 'bench google-drive',
      options: drive.accountOptions(emulator.info),
    });

    const results: TaskResult[] = [];
    for (const [n, kind] of targetKinds.entries()) {
      const spec = TARGETS[kind]!;
      if (engineMode === 'per-target' && n > 0) {
        await e.stop();
        engine = e = await EngineProcess.start(engineOptions);
      }
      console.log(`${kind}: starting ${spec.label} ...`);
      const server = await spec.start();
      try {
        const target = await e.api<{ id: string }>('POST', '/api/accounts', {
          kind,
          name: `bench ${kind}`,
          options: server.accountOptions,
        });
        for (const which of ['big', 'small'] as const) {
          const t = await e.api<{ id: string }>('POST', '/api/tasks', {
            name: `google-drive -> ${kind} (${which})`,
            sourceAccountId: source.id,
            sourcePath: `bench-${which}`,
            targetAccountId: target.id,
            targetPath: `from-drive-${which}`,
          });
          if (engineMode === 'per-task') {
            await e.stop();
            engine = e = await EngineProcess.start(engineOptions);
          }
          console.log(`  ${which} ...`);
          const cpu0 = await cpuSeconds(e.pid);
          const { value: run, memory } = await e.measure(() => e.runTask(t.id));
          const engineCpuSeconds = round((await cpuSeconds(e.pid)) - cpu0, 2);
          const files = run.versionId ? await e.versionFiles(run.versionId) : [];
          // Hash what the server's own disk holds: the large file, and a sample spread over the
          // first page of the version's files (up to 500) for the small ones.
          const seeded = which === 'big' ? new Map([[bigName, big.sha256]]) : smallSha;
          const relOf = (p: string) => p.replace(new RegExp(`^/?bench-${which}/`), '');
          const listed = files.filter((f) => seeded.has(relOf(f.path)));
          const stride = Math.max(1, Math.floor(listed.length / sampleCount));
          const sample = which === 'big' ? listed : listed.filter((_, i) => i % stride === 0);
          const wanted = which === 'big' ? 1 : sampleCount;
          let matched = 0;
          for (const f of sample.slice(0, wanted)) {
            const got = await sha256File(server.diskPath(f.storedPath)).catch(() => null);
            if (got?.sha256 === seeded.get(relOf(f.path))) matched++;
          }
          const errors =
            run.filesFailed > 0 || run.status !== 'completed'
              ? (
                  await e.api<Array<{ path?: string | null; message: string }>>(
                    'GET',
                    `/api/runs/${run.id}/events?level=error&limit=5`,
                  )
                ).map((x) => `${x.path ?? ''}: ${x.message}`)
              : [];
          const seconds = run.durationMs / 1000;
          const bytes = which === 'big' ? bigSize : smallBytes;
          const count = which === 'big' ? 1 : smallCount;
          const r: TaskResult = {
            target: kind,
            task: which,
            status: run.status,
            errorMessage: run.errorMessage,
            filesCopied: run.filesCopied,
            filesFailed: run.filesFailed,
            bytesCopied: run.bytesCopied,
            retries: run.retries,
            seconds: round(seconds, 2),
            wallSeconds: round(run.wallMs / 1000, 2),
            mibPerSec: round(bytes / MiB / seconds, 1),
            filesPerSec: round(count / seconds, 1),
            memory: {
              ...memory,
              startRssMiB: round(memory.startRssMiB),
              peakRssMiB: round(memory.peakRssMiB),
              sampledMaxRssMiB: round(memory.sampledMaxRssMiB),
            },
            engineCpuSeconds,
            verified: { checked: wanted, matched },
            errors,
          };
          results.push(r);
          console.log(
            `  ${which}: ${r.status}${r.errorMessage ? ` (${r.errorMessage})` : ''}, ${r.filesCopied} files, ${r.seconds} s, ${r.mibPerSec} MiB/s, ${r.filesPerSec} files/s, engine CPU ${r.engineCpuSeconds} s, RSS ${r.memory.startRssMiB} -> peak ${r.memory.peakRssMiB} MiB, sha256 ${matched}/${wanted}`,
          );
          for (const m of errors) console.log(`    error ${m}`);
        }
      } finally {
        await server.stop();
      }
    }

    const peak = Math.max(...results.map((r) => r.memory.peakRssMiB));
    const result = {
      benchmark: 'targets',
      date: new Date().toISOString(),
      command: `node dist/bench/targets.bench.js --targets ${targetKinds.join(',')} --size-mib ${sizeMiB} --small-files ${smallCount} --sample ${sampleCount} --engine ${engineMode}`,
      engine: engineMode,
      machine,
      machineText: describeMachine(machine),
      source: 'google-drive emulator (own process)',
      bigFile: { name: bigName, bytes: bigSize, sha256: big.sha256 },
      smallFiles: { count: smallCount, bytes: smallBytes, sizes: '4-64 KiB', folders: 20 },
      taskConcurrency: 'engine default',
      engineIdleRssMiB: round(idle.rssKiB / 1024),
      emulatorPeakRssMiB: round(await emulator.peakRssMiB()),
      results,
      acceptance: {
        budgetMiB: MEMORY_BUDGET_MIB,
        peakRssMiB: peak,
        underBudget: peak < MEMORY_BUDGET_MIB,
        completed: results.every((r) => r.status === 'completed'),
        allFilesCopied: results.every((r) => r.filesCopied === (r.task === 'big' ? 1 : smallCount)),
        bytesMatch: results.every((r) => r.verified.matched === r.verified.checked),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved ${await saveResult('targets', result)}`);
    const a = result.acceptance;
    if (!a.completed || !a.allFilesCopied || !a.bytesMatch || !a.underBudget) process.exitCode = 1;
  } finally {
    await engine?.stop();
    await emulator.stop();
    if (!keep) await rm(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
