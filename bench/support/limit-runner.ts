/**
 * Parent side of `limit-process.ts`: forks the limit in its own process (with the engine's Node
 * flags, so both run under the same V8 settings), waits for its result, then reads its peak RSS
 * and disk writes from /proc before letting it exit.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NODE_FLAGS } from '../../src/engine-flags.js';
import type { LimitResult, LimitSpec } from './limit-process.js';

export interface MeasuredLimit extends LimitResult {
  peakRssMiB: number;
  writeBytes: number;
}

export async function procFigures(pid: number): Promise<{ hwmKiB: number; writeBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const io = await readFile(`/proc/${pid}/io`, 'utf8').catch(() => '');
  return {
    hwmKiB: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN),
    writeBytes: Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? NaN),
  };
}

export async function measureLimit(
  spec: LimitSpec,
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
): Promise<MeasuredLimit> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'limit-process.js');
  const child = fork(entry, [JSON.stringify(spec)], {
    execArgv: [...ENGINE_NODE_FLAGS, ...nodeFlags],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  try {
    const reply = await new Promise<{ ok: boolean; result?: LimitResult; error?: string }>(
      (resolve, reject) => {
        child.once('message', (m) => resolve(m as { ok: boolean }));
        child.once('exit', (code) => reject(new Error(`limit process exited (${code})`)));
      },
    );
    if (!reply.ok) throw new Error(`limit: ${reply.error}`);
    const p = await procFigures(child.pid!);
    return {
      ...reply.result!,
      peakRssMiB: p.hwmKiB / 1024,
      writeBytes: p.writeBytes,
    };
  } finally {
    if (child.connected) child.send('exit');
    else child.kill('SIGTERM');
    await exited;
  }
}
