import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createApiToken, ENGINE_ADMIN_ENV } from './api-token.js';
import { ENGINE_NODE_FLAGS } from '../../src/engine-flags.js';

const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
/** Compiled once per test run, inside the project so node_modules resolve (gitignored). */
export const BUILD_DIR = join(ROOT, '.test-build');

let building: Promise<void> | undefined;

/** Compiles the engine with tsc for tests that must run it as a real process (kill -9 and the like). */
export function buildEngine(): Promise<void> {
  building ??= promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      BUILD_DIR,
    ],
    { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 },
  ).then(
    () => undefined,
    (e: { stdout?: string }) => {
      // tsc exits non-zero on type errors but still emits; only a missing entry point is fatal.
      if (!existsSync(join(BUILD_DIR, 'src', 'main.js')))
        throw new Error(`engine build failed:\n${e.stdout ?? ''}`);
    },
  );
  return building;
}

export interface EngineProcess {
  baseUrl: string;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `node .test-build/src/main.js` on a free-ish port and waits for /api/health. The port is
 * drawn below Linux's ephemeral range (32768-60999): one drawn inside it could be the local port
 * of one of the machine's own outgoing connections (an emulator's, an SDK's keep-alive socket),
 * and the engine then exits with EADDRINUSE (it did in CI, twice in one run). Another process may
 * still hold a port below it: such a start is tried again on another port.
 */
export async function startEngine(env: Record<string, string>): Promise<EngineProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEngineOn(20_000 + Math.floor(Math.random() * 12_000), env);
    } catch (e) {
      if (!(e instanceof PortInUseError) || attempt === 3) throw e;
    }
  }
}

class PortInUseError extends Error {}

async function startEngineOn(port: number, env: Record<string, string>): Promise<EngineProcess> {
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, join(BUILD_DIR, 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...ENGINE_ADMIN_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      const message = `engine exited with ${child.exitCode}:\n${out}`;
      throw out.includes('EADDRINUSE') ? new PortInUseError(message) : new Error(message);
    }
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error(`engine did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    baseUrl,
    child,
    output: () => out,
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

/** One API token per engine address (a restarted engine listens on another port). */
const tokens = new Map<string, Promise<string>>();

export async function api<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let token = tokens.get(baseUrl);
  if (!token) {
    token = createApiToken(baseUrl);
    tokens.set(baseUrl, token);
  }
  const auth = { authorization: `Bearer ${await token}` };
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A local folder to a local folder (`<dir>/src` -> `<dir>/dst`), made through the API. */
export async function localToLocalTask(
  baseUrl: string,
  dir: string,
): Promise<{ taskId: string; targetAccountId: string }> {
  const account = (name: string, root: string) =>
    api<{ id: string }>(baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name,
      options: { root },
    });
  const src = await account('s', join(dir, 'src'));
  const dst = await account('d', join(dir, 'dst'));
  const task = await api<{ id: string }>(baseUrl, 'POST', '/api/tasks', {
    name: 'k',
    sourceAccountId: src.id,
    targetAccountId: dst.id,
  });
  return { taskId: task.id, targetAccountId: dst.id };
}
