/**
 * Local -> local backup benchmark for the foundation: N files (log-uniform 1 KiB..5 MiB) plus one
 * large file, run through the real engine (HTTP API, queue, ledger) in its own process under
 * /usr/bin/time -v. Reports wall time, throughput, peak RSS of the engine, bytes the engine
 * wrote outside the target, and verifies every copied byte.
 *
 *   npm run build && node dist/bench/local-to-local.bench.js [--files 2000] [--big-gib 4] [--dir /tmp/x]
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { once } from 'node:events';
import { ENGINE_NODE_FLAGS } from '../src/engine-flags.js';

const MiB = 1024 * 1024;
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const FILES = Number(args.get('files') ?? 2000);
const BIG_GIB = Number(args.get('big-gib') ?? 4);
const ROOT = resolve(args.get('dir') ?? join(tmpdir(), 'cbe-bench-local'));
const CONCURRENCY = Number(args.get('concurrency') ?? 4);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

async function writeStreamed(path: string, size: number, seed: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const block = randomBytes(Math.min(size, 4 * MiB));
  let left = size;
  let n = seed;
  while (left > 0) {
    const piece = Buffer.from(block.subarray(0, Math.min(left, block.length)));
    if (piece.length >= 4) piece.writeUInt32LE(n++ >>> 0, 0); // no two blocks identical
    if (!out.write(piece)) await once(out, 'drain');
    left -= piece.length;
  }
  out.end();
  await once(out, 'finish');
}

async function seedSource(src: string): Promise<{ count: number; bytes: number }> {
  const marker = `${src}.seeded`;
  const random = rng(42);
  let bytes = 0;
  const plan: Array<[string, number]> = [];
  for (let i = 0; i < FILES; i++) {
    // log-uniform between 1 KiB and 5 MiB: many small files, some large, like a photo folder.
    const size = Math.round(
      Math.exp(Math.log(1024) + random() * (Math.log(5 * MiB) - Math.log(1024))),
    );
    plan.push([
      `album-${String(i % 40).padStart(2, '0')}/IMG_${String(i).padStart(5, '0')}.jpg`,
      size,
    ]);
  }
  if (BIG_GIB > 0) plan.push(['videos/big-video.mov', Math.round(BIG_GIB * 1024 * MiB)]);
  for (const [, s] of plan) bytes += s;
  const done = await readFile(marker, 'utf8').catch(() => '');
  if (done === JSON.stringify({ FILES, BIG_GIB })) return { count: plan.length, bytes };
  await rm(src, { recursive: true, force: true });
  let i = 0;
  for (const [rel, size] of plan) await writeStreamed(join(src, rel), size, i++ * 7919);
  await writeFile(marker, JSON.stringify({ FILES, BIG_GIB }));
  return { count: plan.length, bytes };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(c as Buffer);
  return h.digest('hex');
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  }
  await walk(root);
  return out;
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function readIo(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/io`, 'utf8').catch(() => '');
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split(':')[0]!, Number(l.split(':')[1])]),
  );
}

interface RunResult {
  id: string;
  status: string;
  filesCopied: number;
  filesUnchanged: number;
  bytesCopied: number;
  durationMs: number;
  errorMessage: string | null;
}

async function main(): Promise<void> {
  const src = join(ROOT, 'source');
  const dst = join(ROOT, 'target');
  const data = join(ROOT, 'engine-data');
  const tmpScratch = join(ROOT, 'engine-tmp');
  console.log(`seeding ${FILES} files + ${BIG_GIB} GiB under ${src} ...`);
  const seeded = await seedSource(src);
  await rm(dst, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
  await rm(tmpScratch, { recursive: true, force: true });
  await mkdir(dst, { recursive: true });
  await mkdir(tmpScratch, { recursive: true });

  const port = 3900 + Math.floor(Math.random() * 90);
  const base = `http://127.0.0.1:${port}`;
  // TMPDIR points at an empty folder: anything the engine staged there would show up.
  const child = spawn(
    '/usr/bin/time',
    ['-v', process.execPath, ...ENGINE_NODE_FLAGS, 'dist/src/main.js'],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: data,
        TMPDIR: tmpScratch,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; ; i++) {
    try {
      await api(base, 'GET', '/api/health');
      break;
    } catch {
      if (i > 200) throw new Error(`engine did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const enginePid = Number(
    (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8'))
      .trim()
      .split(/\s+/)[0],
  );

  const a = await api<{ id: string }>(base, 'POST', '/api/accounts', {
    kind: 'local',
    name: 'src',
    options: { root: src },
  });
  const b = await api<{ id: string }>(base, 'POST', '/api/accounts', {
    kind: 'local',
    name: 'dst',
    options: { root: dst },
  });
  const task = await api<{ id: string }>(base, 'POST', '/api/tasks', {
    name: 'bench',
    sourceAccountId: a.id,
    targetAccountId: b.id,
    targetPath: 'Backup',
    concurrency: CONCURRENCY,
  });

  async function runOnce(): Promise<RunResult> {
    const started = await api<{ id: string }>(base, 'POST', `/api/tasks/${task.id}/run`);
    for (;;) {
      const r = await api<RunResult>(base, 'GET', `/api/runs/${started.id}`);
      if (r.status !== 'queued' && r.status !== 'running') return r;
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  const ioBefore = await readIo(enginePid);
  const first = await runOnce();
  const ioAfterFirst = await readIo(enginePid);
  const second = await runOnce();
  // VmHWM is the kernel's own peak-RSS figure for the engine process (what time -v reports too).
  const status = await readFile(`/proc/${enginePid}/status`, 'utf8');
  const hwmKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  // Stop the engine itself (not /usr/bin/time), so time reports its peak memory on exit.
  process.kill(enginePid, 'SIGTERM');
  await once(child, 'close'); // 'close': stderr fully read, time's report included

  if (process.env.BENCH_DEBUG) console.log(stderr.slice(-3000));
  const peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  const targetFiles = await listFiles(dst);
  const targetBytes = (
    await Promise.all(targetFiles.map((f) => stat(f).then((s) => s.size)))
  ).reduce((x, y) => x + y, 0);
  const writtenBytes = (ioAfterFirst.write_bytes ?? 0) - (ioBefore.write_bytes ?? 0);
  const scratchLeft = await listFiles(tmpScratch);
  const dataFiles = await Promise.all(
    (await listFiles(data)).map(
      async (f) => `${relative(data, f)} (${(await stat(f)).size} bytes)`,
    ),
  );

  console.log('verifying every byte ...');
  const versionFolder = (await readdir(join(dst, 'Backup'))).find((f) => f.startsWith('v000001_'))!;
  let mismatches = 0;
  for (const f of await listFiles(src)) {
    const copy = join(dst, 'Backup', versionFolder, relative(src, f));
    if ((await sha256File(f)) !== (await sha256File(copy).catch(() => ''))) mismatches++;
  }

  const secs = first.durationMs / 1000;
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}`,
    files: seeded.count,
    bytes: seeded.bytes,
    concurrency: CONCURRENCY,
    firstRun: {
      status: first.status,
      copied: first.filesCopied,
      seconds: secs,
      mbPerSec: seeded.bytes / MiB / secs,
      filesPerSec: seeded.count / secs,
    },
    secondRun: {
      status: second.status,
      copied: second.filesCopied,
      unchanged: second.filesUnchanged,
      seconds: second.durationMs / 1000,
    },
    peakRssMiB: hwmKiB / 1024,
    peakRssMiBTimeV: peakKiB / 1024,
    targetBytes,
    engineWriteBytesFirstRun: writtenBytes,
    engineWritesOutsideTarget: writtenBytes - targetBytes,
    filesLeftInEngineTmp: scratchLeft.length,
    engineDataFiles: dataFiles,
    mismatches,
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    `bench/results/local-to-local-${Date.now()}.json`,
    JSON.stringify(result, null, 2),
  );
  if (mismatches > 0 || first.status !== 'completed' || second.filesCopied !== 0) process.exit(1);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
