/**
 * Small helpers shared by the benchmark scripts: argument parsing, the machine description,
 * file hashing and walking. Nothing here touches the engine.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** `--key value` pairs (and bare `--flag`, read as 'true'). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}' (use --key value)`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out.set(a.slice(2), 'true');
    else {
      out.set(a.slice(2), next);
      i++;
    }
  }
  return out;
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  ramGiB: number;
  node: string;
  kernel: string;
  load: string;
}

export function machineInfo(): MachineInfo {
  let kernel: string;
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    kernel = process.platform;
  }
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown cpu',
    ramGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel,
    load: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.nproc} x ${m.cpu}, ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.kernel}`;
}

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path, { highWaterMark: 4 * MiB })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export async function listFilesUnder(root: string): Promise<string[]> {
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

/**
 * Deterministic, incompressible content of any size, produced block by block: a random 4 MiB
 * block (from `seed`) whose first 8 bytes carry the block number, so no two blocks are equal.
 */
export function* contentBlocks(size: number, seed: number, blockSize = 4 * MiB): Generator<Buffer> {
  const base = Buffer.alloc(Math.min(blockSize, Math.max(size, 1)));
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= base.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    base.writeUInt32LE(x, i);
  }
  let n = 0;
  for (let left = size; left > 0; left -= base.length) {
    const piece = Buffer.from(base.subarray(0, Math.min(left, base.length)));
    if (piece.length >= 8) piece.writeBigUInt64LE(BigInt(n), 0);
    n++;
    yield piece;
  }
}

export async function saveResult(name: string, result: unknown): Promise<string> {
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/${name}-${Date.now()}.json`;
  await writeFile(file, JSON.stringify(result, null, 2));
  return file;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
