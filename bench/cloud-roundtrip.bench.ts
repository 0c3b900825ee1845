/**
 * Cloud round trip through the real engine: one large file seeded into a cloud emulator (its own
 * process, seeded with the emulator's own helper, not through the engine), then two backup tasks
 * run by the engine (its own process, own DATA_DIR, driven over the HTTP API):
 *
 *   hop 1: cloud  -> local folder under the bench dir
 *   hop 2: that local folder -> another folder in the same emulator
 *
 * Each hop reports seconds, MiB/s, the engine's peak RSS for that hop (VmHWM, reset between hops
 * through /proc/<pid>/clear_refs, cross-checked by sampling VmRSS) and the requests the emulator
 * served. The SHA-256 of the seeded bytes is compared with the local copy and with the bytes the
 * emulator stores after hop 2. Accounts get the product default chunk sizes.
 *
 *   npm run bench:cloud -- --cloud dropbox|google-drive|onedrive [--size-mib 1024] [--dir D] [--keep]
 *                          [--restart-between-hops]   (hop 2 in a fresh engine process)
 */
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  describeMachine,
  machineInfo,
  MiB,
  parseArgs,
  round,
  saveResult,
  sha256File,
} from './support/bench-util.js';
import { cloudEntry, productDefault } from './support/cloud-table.js';
import { EmulatorProcess } from './support/emulator-process.js';
import type { RequestSummary } from './support/emulator-host.js';
import { EngineProcess, type PhaseMemory, type RunView } from './support/engine-process.js';

const MEMORY_BUDGET_MIB = 200;

interface HopResult {
  hop: string;
  status: string;
  errorMessage: string | null;
  filesCopied: number;
  retries: number;
  seconds: number;
  wallSeconds: number;
  mibPerSec: number;
  memory: PhaseMemory;
  requests: RequestSummary;
  sha256: string | null;
  bytesMatch: boolean;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const entry = cloudEntry(args.get('cloud') ?? 'dropbox');
  const sizeMiB = Number(args.get('size-mib') ?? 1024);
  const size = Math.round(sizeMiB * MiB);
  const root = resolve(args.get('dir') ?? join(tmpdir(), `cbe-bench-${entry.kind}`));
  const keep = args.has('keep');
  /** A fresh engine for hop 2, so its peak does not include what hop 1 left in the heap. */
  const restart = args.has('restart-between-hops');
  const machine = machineInfo();

  await rm(root, { recursive: true, force: true });
  const localRoot = join(root, 'local');
  const emulatorTmp = join(root, 'emulator-tmp');
  const engineTmp = join(root, 'engine-tmp');
  for (const d of [localRoot, emulatorTmp, engineTmp]) await mkdir(d, { recursive: true });

  console.log(`${entry.kind}: starting the emulator and seeding ${sizeMiB} MiB ...`);
  const emulator = await EmulatorProcess.start(entry.kind, {}, { TMPDIR: emulatorTmp });
  let engine: EngineProcess | undefined;
  try {
    const fileName = `big-${sizeMiB}MiB.bin`;
    const seeded = await emulator.call('seedFile', {
      path: `bench-src/${fileName}`,
      size,
      seed: 20261122,
    });
    console.log(`seeded bench-src/${fileName}: sha256 ${seeded.sha256}`);

    const engineOptions = { dataDir: join(root, 'engine-data'), env: { TMPDIR: engineTmp } };
    engine = await EngineProcess.start(engineOptions);
    let e = engine;
    const idle = await e.status();
    const cloud = await e.api<{ id: string }>('POST', '/api/accounts', {
      kind: entry.kind,
      name: `bench ${entry.kind}`,
      options: entry.accountOptions(emulator.info),
    });
    const local = await e.api<{ id: string }>('POST', '/api/accounts', {
      kind: 'local',
      name: 'bench local',
      options: { root: localRoot },
    });

    const hop = async (
      name: string,
      task: {
        sourceAccountId: string;
        sourcePath: string;
        targetAccountId: string;
        targetPath: string;
      },
      verify: (stored: string) => Promise<{ sha256: string; size: number } | null>,
    ): Promise<{ result: HopResult; storedPath: string | undefined }> => {
      const t = await e.api<{ id: string }>('POST', '/api/tasks', { name, ...task });
      await emulator.call('clearRequests');
      console.log(`${name} ...`);
      const { value: run, memory } = await e.measure(() => e.runTask(t.id));
      const requests = await emulator.call('requests');
      const files = run.versionId ? await e.versionFiles(run.versionId) : [];
      const storedPath = files.find((f) => f.path.endsWith(fileName))?.storedPath;
      const got = storedPath ? await verify(storedPath) : null;
      const seconds = (run as RunView).durationMs / 1000;
      const result: HopResult = {
        hop: name,
        status: run.status,
        errorMessage: run.errorMessage,
        filesCopied: run.filesCopied,
        retries: run.retries,
        seconds: round(seconds, 2),
        wallSeconds: round(run.wallMs / 1000, 2),
        mibPerSec: round(size / MiB / seconds, 1),
        memory: {
          ...memory,
          startRssMiB: round(memory.startRssMiB),
          peakRssMiB: round(memory.peakRssMiB),
          sampledMaxRssMiB: round(memory.sampledMaxRssMiB),
        },
        requests,
        sha256: got?.sha256 ?? null,
        bytesMatch: got?.sha256 === seeded.sha256 && got.size === size,
      };
      console.log(
        `  ${result.status}: ${result.seconds} s, ${result.mibPerSec} MiB/s, peak RSS ${result.memory.peakRssMiB} MiB, ${requests.total} requests, bytes ${result.bytesMatch ? 'match' : 'DIFFER'}`,
      );
      return { result, storedPath };
    };

    const down = await hop(
      `${entry.kind} -> local`,
      {
        sourceAccountId: cloud.id,
        sourcePath: 'bench-src',
        targetAccountId: local.id,
        targetPath: 'from-cloud',
      },
      (stored) => sha256File(join(localRoot, stored)).catch(() => null),
    );
    if (restart) {
      await e.stop();
      engine = e = await EngineProcess.start(engineOptions);
    }
    const localFolder = down.storedPath?.slice(0, down.storedPath.lastIndexOf('/')) ?? 'from-cloud';
    const up = await hop(
      `local -> ${entry.kind}`,
      {
        sourceAccountId: local.id,
        sourcePath: localFolder,
        targetAccountId: cloud.id,
        targetPath: 'bench-dst',
      },
      (stored) => emulator.call('storedFile', { path: stored }),
    );

    const hops = [down.result, up.result];
    const peak = Math.max(...hops.map((h) => h.memory.peakRssMiB));
    const result = {
      benchmark: 'cloud-roundtrip',
      date: new Date().toISOString(),
      command: `node dist/bench/cloud-roundtrip.bench.js --cloud ${entry.kind} --size-mib ${sizeMiB}${restart ? ' --restart-between-hops' : ''}`,
      engineRestartedBetweenHops: restart,
      machine,
      machineText: describeMachine(machine),
      cloud: entry.kind,
      fileBytes: size,
      seededSha256: seeded.sha256,
      chunkOption: {
        key: entry.chunkOption,
        productDefaultBytes: productDefault(entry.kind, entry.chunkOption),
      },
      taskConcurrency: 'engine default',
      engineIdleRssMiB: round(idle.rssKiB / 1024),
      emulatorPeakRssMiB: round(await emulator.peakRssMiB()),
      hops,
      acceptance: {
        budgetMiB: MEMORY_BUDGET_MIB,
        peakRssMiB: peak,
        underBudget: peak < MEMORY_BUDGET_MIB,
        bytesMatchEveryHop: hops.every((h) => h.bytesMatch),
        completed: hops.every((h) => h.status === 'completed'),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved ${await saveResult(`cloud-roundtrip-${entry.kind}`, result)}`);
    const a = result.acceptance;
    if (!a.completed || !a.bytesMatchEveryHop || !a.underBudget) process.exitCode = 1;
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
