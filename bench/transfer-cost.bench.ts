/**
 * Where a small file's time goes (issue #21), per target: counts that a shared, busy machine does
 * not distort.
 *
 *   npm run build && node dist/bench/transfer-cost.bench.js [--files 2000]
 *       [--targets local,sftp,s3,webdav] [--concurrency 4] [--no-engine] [--no-strace]
 *       [--cpu-prof] [--dir D]
 *
 * Seeds a local folder with --files files of 4-64 KiB in 20 folders, then per target:
 *
 * 1. transfer alone (bench/support/transfer-cost-process.ts in its own process): the engine's
 *    transfer core and the production connector, K at a time; requests by kind, CPU ms per file,
 *    and (strace attached for the copy only) system calls per file.
 * 2. the whole engine (dist/src/main.js, driven over its HTTP API: a local source account, a
 *    backup task to the target): engine CPU ms per file (/proc/<pid>/stat), and with strace
 *    attached for the run, system calls per file and those on the SQLite ledger's descriptors
 *    (writes, fsync/fdatasync). With --cpu-prof a third, untraced run writes a V8 CPU profile,
 *    summarised as self time by package / source folder.
 *
 * Wall times are printed but are not the point: strace slows what it traces, and the machine may
 * be shared.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { contentBlocks, machineInfo, parseArgs, round, saveResult } from './support/bench-util.js';
import { EngineProcess, cpuSecondsOf } from './support/engine-process.js';
import { SyscallTrace, type SyscallCounts } from './support/syscall-trace.js';
import {
  startTarget,
  TARGET_KINDS,
  TARGET_LABELS,
  type TargetKind,
} from './support/target-servers.js';
import type { TransferCostResult, TransferCostSpec } from './support/transfer-cost-process.js';

/** 4 KiB .. 64 KiB, spread deterministically (same as targets.bench.ts). */
export function smallSize(i: number): number {
  return 4096 + ((i * 2654435761) % (60 * 1024 + 1));
}

export async function seedSmallFiles(root: string, count: number): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${String(i % 20).padStart(2, '0')}`);
    if (i < 20) await mkdir(dir, { recursive: true });
    const size = smallSize(i);
    await writeFile(join(dir, `f${String(i).padStart(5, '0')}.bin`), [
      ...contentBlocks(size, i + 1),
    ]);
    bytes += size;
  }
  return bytes;
}

interface TransferPass {
  result: TransferCostResult;
  syscalls?: SyscallCounts;
}

async function transferPass(spec: TransferCostSpec, traceOut?: string): Promise<TransferPass> {
  const child = spawn(
    process.execPath,
    ['dist/bench/support/transfer-cost-process.js', JSON.stringify(spec)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const l = await lines.next();
    if (l.done) throw new Error('the transfer-cost process ended early');
    return l.value;
  };
  await next(); // ready
  const trace = traceOut ? await SyscallTrace.start(child.pid!, traceOut) : undefined;
  child.stdin!.write('go\n');
  const result = JSON.parse(await next()) as TransferCostResult;
  const syscalls = await trace?.stop();
  child.stdin!.end('exit\n');
  await once(child, 'exit');
  return { result, syscalls };
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** Self time of a V8 CPU profile grouped by package (node_modules), source folder or builtin. */
export function summariseProfile(profile: {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}): Array<{ group: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]!);
    if (!n) continue;
    const g = groupOf(n.callFrame);
    self.set(g, (self.get(g) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...self.entries()]
    .map(([group, ms]) => ({ group, ms: round(ms, 0) }))
    .sort((a, b) => b.ms - a.ms);
}

function groupOf(f: { functionName: string; url: string }): string {
  const url = f.url;
  if (!url) return f.functionName || '(anonymous)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/dist\/src\/(.+)\/[^/]+$/.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  return url;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const files = Number(args.get('files') ?? 2000);
  const targets = (args.get('targets') ?? TARGET_KINDS.join(','))
    .split(',')
    .filter(Boolean) as TargetKind[];
  for (const t of targets) if (!TARGET_KINDS.includes(t)) throw new Error(`unknown target ${t}`);
  const concurrency = Number(args.get('concurrency') ?? 4);
  const withEngine = !args.has('no-engine');
  const withStrace = !args.has('no-strace');
  const cpuProf = args.has('cpu-prof');
  const root = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-transfer-cost'));
  await rm(root, { recursive: true, force: true });
  const sourceRoot = join(root, 'source');
  const small = join(sourceRoot, 'small');
  const bytes = await seedSmallFiles(small, files);
  console.log(`seeded ${files} files, ${bytes} bytes; load ${machineInfo().load}`);

  const rows: Array<Record<string, unknown>> = [];
  for (const kind of targets) {
    const server = await startTarget(kind, root);
    try {
      const spec = (targetPath: string): TransferCostSpec => ({
        target: { kind, settings: server.settings },
        sourceRoot: small,
        targetPath,
        concurrency,
      });
      const plain = await transferPass(spec('tc-plain'));
      const traced = withStrace
        ? await transferPass(spec('tc-traced'), join(root, `strace-transfer-${kind}.log`))
        : undefined;
      const perFile = (n: number) => round(n / files, 2);
      const row: Record<string, unknown> = {
        target: kind,
        transfer: {
          wallMs: round(plain.result.wallMs, 0),
          cpuMsPerFile: perFile(plain.result.cpuMs),
          requestsPerFile: Object.fromEntries(
            Object.entries(plain.result.requests).map(([k, v]) => [k, perFile(v)]),
          ),
          syscallsPerFile: traced?.syscalls ? perFile(traced.syscalls.total) : undefined,
          topSyscallsPerFile: traced?.syscalls ? topPerFile(traced.syscalls.byName, files) : {},
        },
      };
      if (withEngine)
        row.engine = await enginePasses(kind, server, sourceRoot, root, files, {
          withStrace,
          cpuProf,
        });
      rows.push(row);
      console.log(`${TARGET_LABELS[kind]}: ${JSON.stringify(row, null, 1)}`);
    } finally {
      await server.stop();
    }
  }
  const result = {
    benchmark: 'transfer-cost',
    date: new Date().toISOString(),
    files,
    bytes,
    concurrency,
    machine: machineInfo(),
    rows,
  };
  console.log(`saved ${await saveResult('transfer-cost', result)}`);
  if (!args.has('keep')) await rm(root, { recursive: true, force: true });
}

/** The 14 most frequent calls per file, and always the durability ones (issue #21). */
function topPerFile(byName: Record<string, number>, files: number): Record<string, number> {
  const top = Object.entries(byName)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14);
  for (const name of ['fsync', 'fdatasync', 'syncfs'])
    if (!top.some(([k]) => k === name)) top.push([name, byName[name] ?? 0]);
  return Object.fromEntries(top.map(([k, v]) => [k, round(v / files, 4)]));
}

async function enginePasses(
  kind: TargetKind,
  server: Awaited<ReturnType<typeof startTarget>>,
  sourceRoot: string,
  root: string,
  files: number,
  opts: { withStrace: boolean; cpuProf: boolean },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const profDir = join(root, `prof-${kind}`);
  const passes: Array<'plain' | 'strace' | 'prof'> = ['plain'];
  if (opts.withStrace) passes.push('strace');
  if (opts.cpuProf) passes.push('prof');
  for (const pass of passes) {
    const dataDir = join(root, `engine-${kind}-${pass}`);
    const engineTmp = join(root, `engine-tmp-${kind}-${pass}`);
    await mkdir(engineTmp, { recursive: true });
    const engine = await EngineProcess.start({
      dataDir,
      env: { TMPDIR: engineTmp },
      nodeFlags: pass === 'prof' ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
    });
    try {
      const src = await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind: 'local',
        name: 'bench source',
        options: { root: sourceRoot },
      });
      const tgt = await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind,
        name: `bench ${kind}`,
        options: server.accountOptions,
      });
      const task = await engine.api<{ id: string }>('POST', '/api/tasks', {
        name: `small -> ${kind} (${pass})`,
        sourceAccountId: src.id,
        sourcePath: 'small',
        targetAccountId: tgt.id,
        targetPath: `engine-${pass}`,
      });
      const trace =
        pass === 'strace'
          ? await SyscallTrace.start(engine.pid, join(root, `strace-engine-${kind}.log`))
          : undefined;
      const cpu0 = await cpuSecondsOf(engine.pid);
      const run = await engine.runTask(task.id);
      const cpu = (await cpuSecondsOf(engine.pid)) - cpu0;
      const syscalls = await trace?.stop();
      if (run.status !== 'completed' || run.filesCopied !== files)
        throw new Error(`engine run ${pass} to ${kind}: ${run.status} ${run.errorMessage ?? ''}`);
      const perFile = (n: number) => round(n / files, 2);
      if (pass === 'plain') {
        out.wallSeconds = round(run.wallMs / 1000, 2);
        out.cpuMsPerFile = perFile(cpu * 1000);
      } else if (pass === 'strace' && syscalls) {
        out.syscallsPerFile = perFile(syscalls.total);
        out.topSyscallsPerFile = topPerFile(syscalls.byName, files);
        out.ledgerSyscallsPerFile = topPerFile(syscalls.ledger, files);
      }
    } finally {
      await engine.stop();
    }
    if (pass === 'prof') {
      const [name] = (await readdir(profDir)).filter((n) => n.endsWith('.cpuprofile'));
      const profile = JSON.parse(await readFile(join(profDir, name!), 'utf8')) as Parameters<
        typeof summariseProfile
      >[0];
      out.profileSelfMsPerFile = Object.fromEntries(
        summariseProfile(profile)
          .slice(0, 16)
          .map((g) => [g.group, round(g.ms / files, 3)]),
      );
    }
  }
  return out;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
