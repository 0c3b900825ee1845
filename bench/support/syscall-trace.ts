/**
 * System calls of a running process, counted with strace attached to it (every thread, `-f`),
 * for the span between `start()` and `stop()`. Each call is logged with its file descriptors
 * resolved (`-y`), so writes and syncs of the ledger (SQLite: backup.sqlite, its -wal and
 * -journal) can be told from those of the target files. Counts are what a loaded machine does
 * not distort; strace slows the traced process down, so its times are not used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { sleep } from './engine-process.js';

export interface SyscallCounts {
  total: number;
  byName: Record<string, number>;
  /** Calls on a descriptor of the SQLite ledger, by name (pwrite64, fdatasync, fsync ...). */
  ledger: Record<string, number>;
}

export class SyscallTrace {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly out: string,
  ) {}

  static async start(pid: number, out: string): Promise<SyscallTrace> {
    const proc = spawn('strace', ['-f', '-y', '-qq', '-o', out, '-p', String(pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // strace attaches thread by thread; give it a moment before the measured work starts.
    await sleep(500);
    if (proc.exitCode !== null) throw new Error(`strace failed: ${stderr}`);
    return new SyscallTrace(proc, out);
  }

  async stop(): Promise<SyscallCounts> {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGINT');
      await once(this.proc, 'exit');
    }
    return countSyscalls(await readFile(this.out, 'utf8'));
  }
}

export function countSyscalls(log: string): SyscallCounts {
  const byName: Record<string, number> = {};
  const ledger: Record<string, number> = {};
  let total = 0;
  for (const line of log.split('\n')) {
    // "[pid 12] name(args) = r", "12 name(args ...", "<... name resumed>": count each call once.
    const m = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?([a-z_0-9]+)\(/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    total++;
    byName[name] = (byName[name] ?? 0) + 1;
    if (/backup\.sqlite/.test(line)) ledger[name] = (ledger[name] ?? 0) + 1;
  }
  return { total, byName, ledger };
}
