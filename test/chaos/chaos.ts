/**
 * The fault suite (issue #10): a backup between two emulated clouds while the emulators inject
 * faults at random from a seeded plan, and the engine process itself is killed with SIGKILL and
 * restarted a few times. Afterwards it checks, from the target's stored bytes and the ledger, that
 * the last complete version is the source byte for byte, that no version marked complete is
 * missing anything on the target, that the run logs name the faults the engine retried, and that
 * a restore of the last complete version gives back the source's bytes.
 *
 *   npm run chaos                          (1,000 files, 3 SIGKILLs)
 *   node .test-build/test/chaos/chaos.js --files 200 --kills 1 --seed 7 --source dropbox --target onedrive
 *
 * Both emulators run in their own processes (`chaos-emulator-host.ts`), the engine is the built
 * `src/main.js` in its own process with its own data folder. `test/e2e/chaos-short.e2e-spec.ts`
 * runs a short scenario inside `npm test`.
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cloudEntry } from '../../bench/support/cloud-table.js';
import { createApiToken, ENGINE_ADMIN_ENV } from '../support/api-token.js';
import { patternBytes } from '../support/files.js';
import type { ChaosHostOps } from './chaos-emulator-host.js';
import {
  FAULT_KINDS,
  mulberry32,
  type ChaosCloud,
  type ChaosStats,
  type FaultKind,
  type FaultPlan,
  type StoredObject,
} from './fault-plan.js';

const KiB = 1024;

/** The project root: the nearest folder above this file with a package.json (also when built). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the chaos runner');
    dir = up;
  }
  return dir;
}

const ROOT = findRoot();
const BUILD_DIR = join(ROOT, '.test-build');

/** Per-cloud settings: the option that sets bytes per upload request, and its smallest legal value. */
const CHUNKS: Record<ChaosCloud, { option: string; bytes: number }> = {
  dropbox: { option: 'uploadChunkSize', bytes: 64 * KiB },
  'google-drive': { option: 'uploadChunkSize', bytes: 256 * KiB },
  onedrive: { option: 'uploadFragmentSize', bytes: 320 * KiB },
};

export const DEFAULT_PLAN: Omit<FaultPlan, 'seed'> = {
  rateLimit429: 0.02,
  unavailable503: 0.02,
  serverError500: 0.015,
  cutDownload: 0.03,
  truncatedBody: 0.02,
  cutUpload: 0.03,
  tokenExpiry: 0.004,
  retryAfterSeconds: 1,
};

export interface ChaosOptions {
  files: number;
  kills: number;
  seed: number;
  source: ChaosCloud;
  target: ChaosCloud;
  /** Files a run transfers at once. */
  concurrency?: number;
  /** Runs started before giving up (each SIGKILL and each failed run costs one). */
  maxRuns?: number;
  /** No run may sit this long without progress (a hang). */
  stallMs?: number;
  plan?: Partial<Omit<FaultPlan, 'seed'>>;
  /** Keep injecting faults while restoring (off: the restore reads a quiet target). */
  restoreUnderFaults?: boolean;
  log?: (line: string) => void;
}

interface RunView {
  id: string;
  status: string;
  phase?: string;
  versionId: string | null;
  filesTotal: number;
  filesCopied: number;
  filesUnchanged: number;
  filesFailed: number;
  retries: number;
  errorMessage: string | null;
}
interface VersionView {
  id: string;
  seq: number;
  status: string;
  fileCount: number;
}
interface VersionFile {
  path: string;
  size: number;
  sha256: string;
  storedPath: string;
}
interface RunEvent {
  id: number;
  level: string;
  message: string;
}

export interface ChaosReport {
  scenario: {
    seed: number;
    files: number;
    bytes: number;
    aboveChunk: number;
    chunkBytes: number;
    source: ChaosCloud;
    target: ChaosCloud;
    concurrency: number;
    plan: FaultPlan;
  };
  machine: string;
  date: string;
  wallSeconds: number;
  kills: number;
  runs: Array<{
    id: string;
    status: string;
    killed: boolean;
    retries: number;
    errorMessage: string | null;
  }>;
  /** Faults as the emulators answered them, source + target. */
  injected: Record<FaultKind, number>;
  injectedBySide: { source: ChaosStats; target: ChaosStats };
  /** Injected faults the scenario came through (all of them when no problem was found). */
  survived: Record<FaultKind, number>;
  /** Retry events in the run logs, classified by the fault they name. */
  namedInRunLog: Record<FaultKind | 'other', number>;
  retryEvents: number;
  /** Resumes the connectors did on their own (Range re-requests of a broken download body). */
  connectorRangeResumes: number;
  /** Files on the target that no version points at (uploads a SIGKILL left unrecorded). */
  orphansOnTarget: number;
  versions: Array<{ seq: number; status: string; fileCount: number }>;
  restoredFiles: number;
  problems: string[];
}

// ---- processes ------------------------------------------------------------------------------

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

class HostProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private constructor(
    readonly kind: ChaosCloud,
    readonly child: ChildProcess,
    readonly info: Record<string, unknown>,
  ) {
    child.on('message', (m: Reply) => {
      const done = this.pending.get(m.id);
      if (!done) return;
      this.pending.delete(m.id);
      done(m);
    });
  }

  static async start(kind: ChaosCloud): Promise<HostProcess> {
    const entry = join(BUILD_DIR, 'test', 'chaos', 'chaos-emulator-host.js');
    const child = fork(entry, [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const info = await new Promise<Record<string, unknown>>((res, rej) => {
      child.once('exit', (code) => rej(new Error(`${kind} emulator host exited (${code})`)));
      child.on('message', (m: { type?: string; info?: Record<string, unknown> }) => {
        if (m.type === 'ready') res(m.info!);
      });
    });
    child.removeAllListeners('exit');
    return new HostProcess(kind, child, info);
  }

  call<K extends keyof ChaosHostOps>(
    op: K,
    ...args: Parameters<ChaosHostOps[K]>
  ): Promise<ReturnType<ChaosHostOps[K]>> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, (r) =>
        r.ok
          ? res(r.result as ReturnType<ChaosHostOps[K]>)
          : rej(new Error(`${this.kind} host ${op}: ${r.error}`)),
      );
      this.child.send({ id, op, args: args[0] });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.call('stop').catch(() => this.child.kill('SIGTERM'));
    await exited;
  }
}

class Engine {
  private out = '';
  /** Set when the process ended without being told to (a crash). */
  crashed: string | undefined;
  private expectingExit = false;
  private token: Promise<string> | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    const keep = (c: Buffer) => (this.out = (this.out + c.toString()).slice(-30_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', (code, signal) => {
      if (!this.expectingExit)
        this.crashed = `engine exited on its own (code ${code}, signal ${signal})`;
    });
  }

  static async start(dataDir: string, concurrency: number): Promise<Engine> {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(process.execPath, [join(BUILD_DIR, 'src', 'main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        BACKUP_CONCURRENCY: String(concurrency),
        ...ENGINE_ADMIN_ENV,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const e = new Engine(child, `http://127.0.0.1:${port}`);
    for (let i = 0; ; i++) {
      if (e.crashed) throw new Error(`${e.crashed}:\n${e.out}`);
      try {
        if ((await fetch(`${e.baseUrl}/api/health`)).ok) return e;
      } catch {
        // not listening yet
      }
      if (i > 600) throw new Error(`engine did not start:\n${e.out}`);
      await sleep(50);
    }
  }

  output(): string {
    return this.out;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.token ??= createApiToken(this.baseUrl);
    const auth = { authorization: `Bearer ${await this.token}` };
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.expectingExit = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Builds the engine, the emulators and this suite into `.test-build/` (type errors elsewhere do not stop it). */
export async function buildChaos(): Promise<void> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(
    process.execPath,
    [tsc, '-p', join(ROOT, 'test', 'chaos', 'tsconfig.json')],
    {
      cwd: ROOT,
      maxBuffer: 10 * 1024 * 1024,
    },
  ).catch((e: { stdout?: string }) => {
    for (const f of ['src/main.js', 'test/chaos/chaos-emulator-host.js'])
      if (!existsSync(join(BUILD_DIR, f)))
        throw new Error(`chaos build failed:\n${e.stdout ?? ''}`);
  });
}

// ---- the scenario ---------------------------------------------------------------------------

interface SourceFile {
  rel: string;
  size: number;
  seed: number;
  sha256: string;
}

/** N files in nested folders: mostly small, some medium, a few above the target's chunk size, one empty. */
function planFiles(n: number, seed: number, chunk: number): SourceFile[] {
  const rnd = mulberry32(seed ^ 0x5eed);
  const out: SourceFile[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const size =
      i === 0
        ? 0
        : r < 0.8
          ? 1 + Math.floor(rnd() * 24 * KiB)
          : r < 0.95
            ? 24 * KiB + Math.floor(rnd() * 176 * KiB)
            : chunk + 1 + Math.floor(rnd() * 2.5 * chunk);
    const rel = `d${i % 10}/s${Math.floor(i / 10) % 5}/f${String(i).padStart(4, '0')}.bin`;
    const fileSeed = (seed * 100_003 + i * 7919 + 1) >>> 0;
    out.push({ rel, size, seed: fileSeed, sha256: sha(patternBytes(size, fileSeed)) });
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Which injected fault a retry event names, from its message. */
export function classifyRetry(message: string): FaultKind | 'other' {
  if (/source sent \d+ bytes but listed/i.test(message)) return 'truncatedBody';
  if (/\b429\b|rate.?limit|too_many|throttl|activityLimitReached/i.test(message))
    return 'rateLimit429';
  if (/\b503\b|unavailable|serviceNotAvailable/i.test(message)) return 'unavailable503';
  if (/\b500\b|internal server error|generalException|backendError/i.test(message))
    return 'serverError500';
  if (/\b401\b|expired|unauthori[sz]ed|invalid_access_token/i.test(message)) return 'tokenExpiry';
  if (
    /connection broke|ECONNRESET|socket hang up|aborted|terminated|premature|other side closed|EPIPE|fetch failed/i.test(
      message,
    )
  )
    return /upload|append|fragment|chunk|write|session/i.test(message)
      ? 'cutUpload'
      : 'cutDownload';
  return 'other';
}

async function pagedFiles(engine: Engine, versionId: string): Promise<VersionFile[]> {
  const out: VersionFile[] = [];
  let after: number | null = null;
  do {
    const q: string = after === null ? '' : `&afterId=${after}`;
    const page: { files: VersionFile[]; nextAfterId: number | null } = await engine.api(
      'GET',
      `/api/versions/${versionId}/files?limit=5000${q}`,
    );
    out.push(...page.files);
    after = page.nextAfterId;
  } while (after !== null);
  return out;
}

async function pagedRetryEvents(engine: Engine, runId: string): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for (let after = 0; ;) {
    const page = await engine.api<RunEvent[]>(
      'GET',
      `/api/runs/${runId}/events?level=retry&limit=1000&afterId=${after}`,
    );
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.id;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

function sumStats(a: ChaosStats, b: ChaosStats): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, a.observed[k] + b.observed[k]])) as Record<
    FaultKind,
    number
  >;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const concurrency = opts.concurrency ?? 4;
  const maxRuns = opts.maxRuns ?? opts.kills + 10;
  const stallMs = opts.stallMs ?? 120_000;
  const plan: FaultPlan = { seed: opts.seed, ...DEFAULT_PLAN, ...opts.plan };
  const chunk = CHUNKS[opts.target].bytes;
  const problems: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'cbe-chaos-'));
  const dataDir = join(dir, 'data');
  const restoreRoot = join(dir, 'restore');
  // A local account's folder must exist: the engine never creates a missing root (issue 18).
  await mkdir(restoreRoot, { recursive: true });
  const files = planFiles(opts.files, opts.seed, chunk);
  const rnd = mulberry32(opts.seed ^ 0xdead);
  const killAt = Array.from({ length: opts.kills }, () => 0.1 + rnd() * 0.75).sort((a, b) => a - b);

  const [source, target] = await Promise.all([
    HostProcess.start(opts.source),
    HostProcess.start(opts.target),
  ]);
  let engine: Engine | undefined;
  const runs: ChaosReport['runs'] = [];
  let kills = 0;
  try {
    const modifiedAt = new Date(Date.UTC(2024, 0, 15, 12)).toISOString();
    for (let i = 0; i < files.length; i += 100) {
      await source.call('seed', {
        files: files
          .slice(i, i + 100)
          .map((f) => ({ path: `Chaos/${f.rel}`, size: f.size, seed: f.seed })),
        modifiedAt,
      });
    }
    log(
      `seeded ${files.length} files (${files.filter((f) => f.size > chunk).length} above the ${chunk / KiB} KiB chunk) into ${opts.source}`,
    );

    engine = await Engine.start(dataDir, concurrency);
    const account = async (host: HostProcess, name: string) => {
      const entry = cloudEntry(host.kind);
      const options = {
        ...entry.accountOptions(host.info),
        [CHUNKS[host.kind].option]: CHUNKS[host.kind].bytes,
        listPageSize: 50,
      };
      return (
        await engine!.api<{ id: string }>('POST', '/api/accounts', {
          kind: host.kind,
          name,
          options,
        })
      ).id;
    };
    const srcId = await account(source, 'chaos source');
    const dstId = await account(target, 'chaos target');
    const targetPath = 'Backups/chaos';
    const task = await engine.api<{ id: string }>('POST', '/api/tasks', {
      name: 'chaos',
      sourceAccountId: srcId,
      targetAccountId: dstId,
      sourcePath: 'Chaos',
      targetPath,
      concurrency,
    });

    // Faults on from here: both emulators, each with its own stream from the seed.
    await source.call('setPlan', { plan: { ...plan, seed: plan.seed * 2 + 1 } });
    await target.call('setPlan', { plan: { ...plan, seed: plan.seed * 2 + 2 } });

    let completed: RunView | undefined;
    while (!completed && runs.length < maxRuns) {
      const run = await engine.api<RunView>('POST', `/api/tasks/${task.id}/run`);
      let last = '';
      let lastChange = Date.now();
      for (;;) {
        await sleep(100);
        if (engine.crashed) throw new Error(`${engine.crashed}\n${engine.output()}`);
        const r = await engine.api<RunView>('GET', `/api/runs/${run.id}`);
        const done = r.filesCopied + r.filesUnchanged;
        const sig = `${r.status} ${r.phase ?? ''} ${done} ${r.filesFailed} ${r.retries}`;
        if (sig !== last) {
          last = sig;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > stallMs) {
          problems.push(`run ${run.id} made no progress for ${stallMs / 1000} s (a hang): ${sig}`);
          throw new Error(problems[problems.length - 1]);
        }
        if (r.status !== 'queued' && r.status !== 'running') {
          runs.push({
            id: r.id,
            status: r.status,
            killed: false,
            retries: r.retries,
            errorMessage: r.errorMessage,
          });
          log(
            `run ${runs.length}: ${r.status} (${r.filesCopied} copied, ${r.filesUnchanged} reused, ${r.filesFailed} failed, ${r.retries} retries)${r.errorMessage ? `: ${r.errorMessage}` : ''}`,
          );
          if (r.status === 'completed') completed = r;
          break;
        }
        if (
          kills < killAt.length &&
          r.status === 'running' &&
          done >= killAt[kills]! * files.length
        ) {
          await engine.kill('SIGKILL');
          kills++;
          log(`SIGKILL ${kills} at ${done}/${files.length} files (${r.phase ?? ''})`);
          engine = await Engine.start(dataDir, concurrency);
          const after = await engine.api<RunView>('GET', `/api/runs/${run.id}`);
          runs.push({
            id: run.id,
            status: after.status,
            killed: true,
            retries: after.retries,
            errorMessage: after.errorMessage,
          });
          // The engine resumes a run a crash interrupted at start-up (issue 18), reusing what it
          // stored; after too many interruptions it fails it as interrupted instead.
          if (after.status === 'queued' || after.status === 'running') {
            log(`run ${run.id} resumed after the restart`);
            last = '';
            lastChange = Date.now();
            continue;
          }
          if (after.status !== 'failed' || !/interrupted/i.test(after.errorMessage ?? ''))
            problems.push(
              `the run killed by SIGKILL ${kills} is '${after.status}' after the restart (${after.errorMessage}), neither resumed nor failed as interrupted`,
            );
          break;
        }
      }
    }
    if (!completed) throw new Error(`no run completed within ${maxRuns} runs`);

    // ---- what the ledger and the target hold --------------------------------------------------
    await source.call('setPlan', { plan: null });
    if (!opts.restoreUnderFaults) await target.call('setPlan', { plan: null });
    const versions = await engine.api<VersionView[]>('GET', `/api/tasks/${task.id}/versions`);
    const complete = versions.filter((v) => v.status === 'complete').sort((a, b) => b.seq - a.seq);
    const last = complete[0];
    if (!last) throw new Error('no version is complete although a run completed');
    if (last.id !== completed.versionId)
      problems.push(
        `the last complete version (${last.seq}) is not the one the completed run wrote`,
      );
    const stored = new Map<string, StoredObject[]>();
    for (const o of await target.call('tree', { folder: '' })) {
      const list = stored.get(o.path) ?? [];
      list.push(o);
      stored.set(o.path, list);
    }
    const referenced = new Set<string>();
    const filesOf = new Map<string, VersionFile[]>();
    for (const v of versions) {
      const vf = await pagedFiles(engine, v.id);
      filesOf.set(v.id, vf);
      for (const f of vf) referenced.add(f.storedPath);
    }
    // Every version marked complete: each file on the target once, with the recorded hash and size.
    for (const v of complete) {
      const vf = filesOf.get(v.id)!;
      if (vf.length !== v.fileCount)
        problems.push(`version ${v.seq}: lists ${vf.length} files but counts ${v.fileCount}`);
      const manifest = `${targetPath}/.cbe-manifests/v${String(v.seq).padStart(6, '0')}.jsonl`;
      if (!stored.has(manifest))
        problems.push(`version ${v.seq} is complete but ${manifest} is not on the target`);
      for (const f of vf) {
        const objs = stored.get(f.storedPath) ?? [];
        if (objs.length === 0)
          problems.push(`version ${v.seq}: ${f.path} -> ${f.storedPath} is not on the target`);
        else if (objs.length > 1)
          problems.push(`version ${v.seq}: ${f.storedPath} is on the target ${objs.length} times`);
        else if (objs[0]!.sha256 !== f.sha256 || objs[0]!.size !== f.size)
          problems.push(
            `version ${v.seq}: ${f.storedPath} on the target is ${objs[0]!.size} bytes ${objs[0]!.sha256.slice(0, 12)}, the ledger says ${f.size} bytes ${f.sha256.slice(0, 12)}`,
          );
      }
    }
    // The last complete version is the source: no file missing, extra, duplicated or different.
    const lastFiles = filesOf.get(last.id)!;
    const byPath = new Map<string, VersionFile>();
    for (const f of lastFiles) {
      if (byPath.has(f.path)) problems.push(`the last version lists ${f.path} twice`);
      byPath.set(f.path, f);
    }
    for (const s of files) {
      const f = byPath.get(s.rel);
      if (!f) problems.push(`the last version is missing ${s.rel}`);
      else if (f.sha256 !== s.sha256 || f.size !== s.size)
        problems.push(
          `the last version has ${s.rel} as ${f.size} bytes ${f.sha256.slice(0, 12)}, the source ${s.size} bytes ${s.sha256.slice(0, 12)}`,
        );
    }
    const sourcePaths = new Set(files.map((s) => s.rel));
    for (const p of byPath.keys())
      if (!sourcePaths.has(p)) problems.push(`the last version holds ${p}, not at the source`);
    const orphans = [...stored.keys()].filter(
      (p) =>
        p.startsWith(`${targetPath}/`) && !p.includes('/.cbe-manifests/') && !referenced.has(p),
    ).length;

    // ---- the run logs ---------------------------------------------------------------------------
    const named = Object.fromEntries(
      [...FAULT_KINDS, 'other'].map((k) => [k, 0]),
    ) as ChaosReport['namedInRunLog'];
    let retryEvents = 0;
    const samples: Partial<Record<FaultKind | 'other', string[]>> = {};
    for (const r of runs) {
      for (const e of await pagedRetryEvents(engine, r.id)) {
        retryEvents++;
        const k = classifyRetry(e.message);
        named[k]++;
        const list = (samples[k] ??= []);
        if (list.length < 2) list.push(e.message);
      }
    }
    for (const [k, list] of Object.entries(samples))
      log(`retry events named ${k}, e.g.: ${list.join(' | ')}`);

    // ---- restore the last complete version to a local folder, compare byte for byte ---------------
    const localId = (
      await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind: 'local',
        name: 'restore',
        options: { root: restoreRoot },
      })
    ).id;
    const restore = await engine.api<RunView>('POST', `/api/versions/${last.id}/restore`, {
      destination: { accountId: localId, path: 'restored' },
    });
    let restoredRun: RunView;
    for (const startedAt = Date.now(); ;) {
      await sleep(100);
      restoredRun = await engine.api<RunView>('GET', `/api/runs/${restore.id}`);
      if (restoredRun.status !== 'queued' && restoredRun.status !== 'running') break;
      if (Date.now() - startedAt > stallMs * 2) {
        problems.push('the restore did not finish');
        break;
      }
    }
    // A restore is a run too: the faults it retried (with --restore-faults on) are in its log.
    for (const e of await pagedRetryEvents(engine, restore.id)) {
      retryEvents++;
      named[classifyRetry(e.message)]++;
    }
    if (restoredRun.status !== 'completed')
      problems.push(`the restore ended ${restoredRun.status}: ${restoredRun.errorMessage}`);
    const restoredDir = join(restoreRoot, 'restored');
    const restored = (await walk(restoredDir)).map((p) =>
      relative(restoredDir, p).split('\\').join('/'),
    );
    const wanted = new Map(files.map((f) => [f.rel, f]));
    for (const rel of restored) {
      const f = wanted.get(rel);
      if (!f) {
        problems.push(`the restore wrote ${rel}, not at the source`);
        continue;
      }
      wanted.delete(rel);
      if (!(await readFile(join(restoredDir, rel))).equals(patternBytes(f.size, f.seed)))
        problems.push(`the restored ${rel} differs from the source's bytes`);
    }
    for (const rel of wanted.keys()) problems.push(`the restore did not write ${rel}`);

    const [srcStats, dstStats] = await Promise.all([source.call('stats'), target.call('stats')]);
    const injected = sumStats(srcStats, dstStats);
    const versionRows = versions.map((v) => ({
      seq: v.seq,
      status: v.status,
      fileCount: v.fileCount,
    }));
    const report: ChaosReport = {
      scenario: {
        seed: opts.seed,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        aboveChunk: files.filter((f) => f.size > chunk).length,
        chunkBytes: chunk,
        source: opts.source,
        target: opts.target,
        concurrency,
        plan,
      },
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}`,
      date: new Date().toISOString(),
      wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
      kills,
      runs,
      injected,
      injectedBySide: { source: srcStats, target: dstStats },
      survived:
        problems.length === 0
          ? { ...injected }
          : (Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>),
      namedInRunLog: named,
      retryEvents,
      connectorRangeResumes: srcStats.rangeResumes + dstStats.rangeResumes,
      orphansOnTarget: orphans,
      versions: versionRows,
      restoredFiles: restored.length,
      problems,
    };
    return report;
  } catch (e) {
    problems.push(`scenario aborted: ${(e as Error).message.slice(0, 2000)}`);
    throw Object.assign(new Error(problems.join('\n')), { problems, runs, kills });
  } finally {
    await engine?.kill('SIGTERM').catch(() => undefined);
    await Promise.all([source.stop(), target.stop()]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function formatReport(r: ChaosReport): string {
  const s = r.scenario;
  const lines = [
    `fault suite: ${s.files} files (${(s.bytes / 1024 / 1024).toFixed(1)} MiB, ${s.aboveChunk} above the ${s.chunkBytes / KiB} KiB chunk), ${s.source} -> ${s.target}, seed ${s.seed}, concurrency ${s.concurrency}`,
    `machine: ${r.machine}; ${r.date}`,
    `wall time ${r.wallSeconds} s; SIGKILLs ${r.kills}; runs ${r.runs.length} (${r.runs.map((x) => (x.killed ? 'killed' : x.status)).join(', ')})`,
    '',
    '| fault | injected (source + target) | survived | named in the run log |',
    '| --- | ---: | ---: | ---: |',
    ...FAULT_KINDS.map(
      (k) =>
        `| ${k} | ${r.injected[k]} (${r.injectedBySide.source.observed[k]} + ${r.injectedBySide.target.observed[k]}) | ${r.survived[k]} | ${r.namedInRunLog[k]} |`,
    ),
    '',
    `retry events in the run logs: ${r.retryEvents} (naming no injected fault: ${r.namedInRunLog.other})`,
    `401 answers after token expiry: ${r.injectedBySide.source.unauthorized + r.injectedBySide.target.unauthorized}; connector-internal Range resumes of downloads: ${r.connectorRangeResumes}`,
    `requests: source ${r.injectedBySide.source.requests.total}, target ${r.injectedBySide.target.requests.total}`,
    `versions: ${r.versions.map((v) => `v${v.seq} ${v.status} ${v.fileCount}`).join(', ')}; orphans on the target: ${r.orphansOnTarget}; restored ${r.restoredFiles} files`,
    r.problems.length === 0
      ? 'result: PASS (no problem found)'
      : `result: FAIL\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
  ];
  return lines.join('\n');
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2)
    m.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? 'true');
  return m;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const report = await runChaos({
    files: Number(a.get('files') ?? 1000),
    kills: Number(a.get('kills') ?? 3),
    seed: Number(a.get('seed') ?? 20_251_122),
    source: (a.get('source') ?? 'dropbox') as ChaosCloud,
    target: (a.get('target') ?? 'google-drive') as ChaosCloud,
    concurrency: Number(a.get('concurrency') ?? 4),
    restoreUnderFaults: a.get('restore-faults') === 'on',
    // --scale 2: every fault probability doubled (Retry-After unchanged).
    plan: Object.fromEntries(
      Object.entries(DEFAULT_PLAN).map(([k, v]) => [
        k,
        k === 'retryAfterSeconds' ? v : v * Number(a.get('scale') ?? 1),
      ]),
    ),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`\n${formatReport(report)}\n`);
  if (a.get('json')) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(resolve(a.get('json')!), JSON.stringify(report, null, 2));
  }
  process.exitCode = report.problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
