/**
 * The real engine (`dist/src/main.js`) in its own process with its own DATA_DIR, driven over its
 * HTTP API, with its memory read from /proc: VmHWM (the kernel's peak resident set) can be reset
 * between phases by writing 5 to /proc/<pid>/clear_refs, so each phase gets its own peak.
 *
 * Sign-in: the engine starts with ADMIN_USERNAME / ADMIN_PASSWORD (the admin it creates on first
 * start). Before the first call other than the health check, `api()` signs in
 * (`POST /api/auth/login`), creates an API token (`POST /api/tokens`, cookie + CSRF header) and
 * sends `Authorization: Bearer <token>` from then on. An engine without sign-in answers the login
 * with 404; then the calls go without credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ENGINE_NODE_FLAGS } from '../../src/engine-flags.js';

export interface EngineOptions {
  dataDir: string;
  /** Extra environment (SECRET_KEY, TMPDIR, BACKUP_* ...). */
  env?: Record<string, string>;
  /** Without it, a free port (see freeEnginePort); the start is tried again on another if taken. */
  port?: number;
  /** Node flags after ENGINE_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir D` to profile a run). */
  nodeFlags?: string[];
}

/** The admin the bench engines are started with (created by the engine on first start). */
export const BENCH_ADMIN = { username: 'bench', password: 'bench-password-123' } as const;

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
  /** Headers that authenticate a call (empty when the engine has no sign-in); set on first use. */
  private auth: Promise<Record<string, string>> | undefined;

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

  /**
   * Starts an engine and waits for its health check. Without `opts.port` it gets a port nobody
   * listened on when it was drawn (the old 3900 + random(90) let two engines started at once
   * collide); an engine that still finds its port taken when it listens exits with EADDRINUSE,
   * and the start is tried again on another port.
   */
  static async start(opts: EngineOptions): Promise<EngineProcess> {
    if (opts.port !== undefined) return EngineProcess.startOn(opts, opts.port);
    for (let attempt = 1; ; attempt++) {
      try {
        return await EngineProcess.startOn(opts, await freeEnginePort());
      } catch (e) {
        if (!(e instanceof PortInUseError) || attempt === 3) throw e;
      }
    }
  }

  private static async startOn(opts: EngineOptions, port: number): Promise<EngineProcess> {
    const child = spawn(
      process.execPath,
      [...ENGINE_NODE_FLAGS, ...(opts.nodeFlags ?? []), 'dist/src/main.js'],
      {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: opts.dataDir,
          ADMIN_USERNAME: BENCH_ADMIN.username,
          ADMIN_PASSWORD: BENCH_ADMIN.password,
          ...opts.env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const engine = new EngineProcess(child, `http://127.0.0.1:${port}`);
    for (let i = 0; ; i++) {
      try {
        await engine.api('GET', '/api/health');
        return engine;
      } catch {
        if (child.exitCode !== null || i > 300) {
          child.kill('SIGTERM');
          const message = `engine did not start:\n${engine.stderr}`;
          // main.ts says "PORT n is already in use" (describeListenError).
          throw /already in use|EADDRINUSE/.test(engine.stderr)
            ? new PortInUseError(message)
            : new Error(message);
        }
        await sleep(100);
      }
    }
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const auth = path === '/api/health' ? {} : await (this.auth ??= this.signIn());
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : undefined) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return json;
  }

  /** Signs in as the bench admin and trades the session for an API token (see the header). */
  private async signIn(): Promise<Record<string, string>> {
    const login = await fetch(`${this.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(BENCH_ADMIN),
    });
    const loginText = await login.text();
    if (login.status === 404) return {}; // an engine without sign-in
    if (!login.ok) {
      this.auth = undefined; // let a later call try again
      throw new Error(`POST /api/auth/login: ${login.status} ${loginText}`);
    }
    const { csrfToken } = JSON.parse(loginText) as { csrfToken: string };
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    const created = await fetch(`${this.baseUrl}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ name: 'bench' }),
    });
    const createdText = await created.text();
    if (!created.ok) {
      this.auth = undefined;
      throw new Error(`POST /api/tokens: ${created.status} ${createdText}`);
    }
    const { token } = JSON.parse(createdText) as { token: string };
    return { authorization: `Bearer ${token}` };
  }

  /** Starts a run of the task and polls it to its end; `wallMs` is measured here. */
  async runTask(taskId: string, pollMs = 100): Promise<RunView & { wallMs: number }> {
    const t0 = performance.now();
    const started = await this.api<{ id: string }>('POST', `/api/tasks/${taskId}/run`);
    for (;;) {
      const r = await this.api<RunView>('GET', `/api/runs/${started.id}`);
      if (r.status !== 'queued' && r.status !== 'running')
        return { ...r, wallMs: performance.now() - t0 };
      await sleep(pollMs);
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

  /** The engine's I/O counters (`/proc/<pid>/io`): bytes it caused to be written to storage. */
  async io(): Promise<{ writeBytes: number; readBytes: number; wchar: number }> {
    const text = await readFile(`/proc/${this.pid}/io`, 'utf8');
    const n = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { writeBytes: n('write_bytes'), readBytes: n('read_bytes'), wchar: n('wchar') };
  }

  /** CPU time the engine has used so far (user + system, from /proc/<pid>/stat), seconds. */
  async cpuSeconds(): Promise<number> {
    return cpuSecondsOf(this.pid);
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

class PortInUseError extends Error {}

/**
 * A loopback port for an engine: drawn below Linux's ephemeral range (32768-60999), as
 * test/support/engine-process.ts does, since one inside it may become the local port of an
 * outgoing connection (an emulator's, a keep-alive socket) before the engine listens on it; and
 * free when drawn (listened on and closed here), else another is drawn.
 */
async function freeEnginePort(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await isFreeLoopbackPort(port)) || attempt === 20) return port;
  }
}

function isFreeLoopbackPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** User + system CPU seconds of a live process (/proc/<pid>/stat fields 14 and 15, 100 Hz ticks). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
