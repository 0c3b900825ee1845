/**
 * Parent side of `emulator-host.ts`: forks the host (one emulator, its own process), waits for its
 * base URL and credentials, then calls its operations over IPC. Also reads the host's memory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorKind, HostOps } from './emulator-host.js';

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

export class EmulatorProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();

  private constructor(
    readonly kind: EmulatorKind,
    readonly child: ChildProcess,
    readonly info: Record<string, unknown>,
  ) {
    child.on('message', (m: Reply & { type?: string }) => {
      const done = this.pending.get(m.id);
      if (!done) return;
      this.pending.delete(m.id);
      done(m);
    });
  }

  static async start(
    kind: EmulatorKind,
    options: Record<string, unknown> = {},
    env: Record<string, string> = {},
  ): Promise<EmulatorProcess> {
    const entry = join(dirname(fileURLToPath(import.meta.url)), 'emulator-host.js');
    const child = fork(entry, [kind, JSON.stringify(options)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} emulator exited (${code})`)));
      child.on('message', (m: { type?: string; info?: Record<string, unknown> }) => {
        if (m.type === 'ready') resolve(m.info!);
      });
    });
    const info = await ready;
    child.removeAllListeners('exit');
    return new EmulatorProcess(kind, child, info);
  }

  call<K extends keyof HostOps>(
    op: K,
    ...args: Parameters<HostOps[K]>
  ): Promise<ReturnType<HostOps[K]>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) =>
        r.ok
          ? resolve(r.result as ReturnType<HostOps[K]>)
          : reject(new Error(`${this.kind} emulator ${op}: ${r.error}`)),
      );
      this.child.send({ id, op, args: args[0] });
    });
  }

  async peakRssMiB(): Promise<number> {
    const text = await readFile(`/proc/${this.child.pid}/status`, 'utf8').catch(() => '');
    return Number(/VmHWM:\s+(\d+) kB/.exec(text)?.[1] ?? NaN) / 1024;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.call('stop').catch(() => this.child.kill('SIGTERM'));
    await exited;
  }
}
