/**
 * The real engine (`dist/src/main.js`) in its own process with its own DATA_DIR, driven over its
 * HTTP API, with its memory read from /proc: VmHWM (the kernel's peak resident set) can be reset
 * between phases by writing 5 to /proc/<pid>/clear_refs, so each phase gets its own peak.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { ENGINE_NODE_FLAGS } from '../../src/engine-flags.js';

export interface EngineOptions {
  dataDir: string;
  /** Extra environment (SECRET_KEY, TMPDIR, BACKUP_* ...). */
  env?: Record<string, string>;
  port?: number;
}

export interface RunView {
  id: string;
  status: string;
  versionId: string | null;
  filesTotal: number;
  filesCopied: number;
  filesUnchanged: number;
  filesFiltered: number;
  filesFailed: number;
  bytesCopied: number;
  retries: number;
  durationMs: number;
  errorMessage: string | null;
}

export interface PhaseMemory {
  /** VmRSS when the phase started (the engine's baseline at that point), MiB. */
  startRssMiB: number;
  /** VmHWM at the end of the phase (peak since the last reset), MiB. */
  peakRssMiB: number;
  /** Highest VmRSS seen by sampling every 100 ms, MiB (a cross-check of the peak). */
  sampledMaxRssMiB: number;
  /** Whether the kernel accepted the peak reset (else the peak covers the whole process life). */
  peakWasReset: boolean;
}

export class EngineProcess {
  private stderr = '';

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-20_000);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(opts: EngineOptions): Promise<EngineProcess> {
    const port = opts.port ?? 3900 + Math.floor(Math.random() * 90);
    const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, 'dist/src/main.js'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: opts.dataDir,
        ...opts.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const engine = new EngineProcess(child, `http://127.0.0.1:${port}`);
    for (let i = 0; ; i++) {
      try {
        await engine.api('GET', '/api/health');
        return engine;
      } catch {
        if (child.exitCode !== null || i > 300) {
          child.kill('SIGTERM');
          throw new Error(`engine did not start:\n${engine.stderr}`);
        }
        await sleep(100);
      }
    }
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : undefined) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return json;
  }

  /** Starts a run of the task and polls it to its end; `wallMs` is measured here. */
  async runTask(taskId: string): Promise<RunView & { wallMs: number }> {
    const t0 = performance.now();
    const started = await this.api<{ id: string }>('POST', `/api/tasks/${taskId}/run`);
    for (;;) {
      const r = await this.api<RunView>('GET', `/api/runs/${started.id}`);
      if (r.status !== 'queued' && r.status !== 'running')
        return { ...r, wallMs: performance.now() - t0 };
      await sleep(100);
    }
  }

  /** Files of a version as the ledger has them (first page of 500 is plenty here). */
  async versionFiles(
    versionId: string,
  ): Promise<Array<{ path: string; size: number; sha256: string; storedPath: string }>> {
    const page = await this.api<{
      files: Array<{ path: string; size: number; sha256: string; storedPath: string }>;
    }>('GET', `/api/versions/${versionId}/files?limit=500`);
    return page.files;
  }

  async status(): Promise<{ rssKiB: number; hwmKiB: number }> {
    const text = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return {
      rssKiB: Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? NaN),
      hwmKiB: Number(/VmHWM:\s+(\d+) kB/.exec(text)?.[1] ?? NaN),
    };
  }

  /** Runs `fn` as one measured phase: peak RSS reset before, read after, RSS sampled during. */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T; memory: PhaseMemory }> {
    let peakWasReset = true;
    try {
      await writeFile(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      peakWasReset = false;
    }
    const startKiB = (await this.status()).rssKiB;
    let sampled = startKiB;
    const timer = setInterval(() => {
      this.status().then(
        (s) => (sampled = Math.max(sampled, s.rssKiB)),
        () => undefined,
      );
    }, 100);
    try {
      const value = await fn();
      const s = await this.status();
      sampled = Math.max(sampled, s.rssKiB);
      return {
        value,
        memory: {
          startRssMiB: startKiB / 1024,
          peakRssMiB: s.hwmKiB / 1024,
          sampledMaxRssMiB: sampled / 1024,
          peakWasReset,
        },
      };
    } finally {
      clearInterval(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }

  recentStderr(): string {
    return this.stderr;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
