/**
 * Child-process entry for the fault suite: one cloud emulator in its own process, with a seeded
 * random-fault mode laid over it, driven over IPC by `chaos.ts`:
 *
 *   fork('.test-build/test/chaos/chaos-emulator-host.js', [kind, JSON options])
 *
 * The emulators only queue one-shot faults on demand. To fault requests at random without
 * touching their code, this host wraps `http.createServer` before the emulator starts, so every
 * request passes `Chaos.onRequest` first: a seeded PRNG decides, per request, whether it gets a
 * fault, and the fault is applied through the emulator's own control surface (429 / 503 with
 * Retry-After, 500, a connection cut inside an upload body, expired access tokens), so the wire
 * format stays the emulator's. Faults on download bodies (a cut mid-body, and a body that ends
 * cleanly but short: chunked framing without Content-Length, so HTTP cannot notice) are laid
 * over the emulator's response by the wrapper, sized from the response's own Content-Length.
 * Outcomes are counted from the responses the emulator actually sent.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { EmulatorControlApi, FaultMatch } from '../../emulators/emulator-control.js';
import { startEmulator } from '../../emulators/start-emulator.js';
import { patternBytes } from '../support/files.js';
import {
  FAULT_KINDS,
  mulberry32,
  type ChaosCloud,
  type ChaosStats,
  type FaultKind,
  type FaultPlan,
  type StoredObject,
} from './fault-plan.js';

type ReqClass = 'download' | 'upload' | 'api' | 'skip';
type StatusKind = 'rateLimit429' | 'unavailable503' | 'serverError500';

/**
 * What the host needs from one emulator: its shared control API (faults, seeding, stored files,
 * stop) and, per cloud, how to tell its traffic apart and aim a fault at the request at hand.
 */
interface CloudAdapter {
  api: EmulatorControlApi;
  classify(req: IncomingMessage, url: URL): { cls: ReqClass; route: string };
  /** The match that makes a fault queued now fire on this request. */
  matchFor(cls: ReqClass, route: string): FaultMatch;
  /** Bytes the service keeps of an upload cut after `afterBytes` (undefined: its default). */
  keepOnCut(afterBytes: number, rnd: () => number): number | undefined;
}

const STATUS_OF: Record<StatusKind, { kind: 'rateLimit' | 'serverError'; status?: 500 | 503 }> = {
  rateLimit429: { kind: 'rateLimit' },
  unavailable503: { kind: 'serverError', status: 503 },
  serverError500: { kind: 'serverError', status: 500 },
};

const zero = (): Record<FaultKind, number> =>
  Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;

const declaredLength = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0) || 0;

class Chaos {
  plan: FaultPlan | undefined;
  adapter: CloudAdapter | undefined;
  private rnd: () => number = mulberry32(1);
  private pendingUploadCuts = 0;
  readonly stats: ChaosStats = {
    planned: zero(),
    observed: zero(),
    unauthorized: 0,
    rangeResumes: 0,
    requests: { total: 0, download: 0, upload: 0, api: 0 },
  };

  configure(plan: FaultPlan | null): void {
    this.plan = plan ?? undefined;
    if (plan) this.rnd = mulberry32(plan.seed);
  }

  onRequest(req: IncomingMessage, res: ServerResponse): void {
    const a = this.adapter;
    if (!a) return;
    const url = new URL(req.url ?? '/', 'http://emulator');
    const { cls, route } = a.classify(req, url);
    if (cls === 'skip') return;
    this.stats.requests.total++;
    this.stats.requests[cls]++;
    const m = /^bytes=(\d+)-/.exec(String(req.headers.range ?? ''));
    if (cls === 'download' && m && Number(m[1]) > 0) this.stats.rangeResumes++;
    this.observe(res, cls);
    const p = this.plan;
    if (!p) return;
    if (this.rnd() < p.tokenExpiry) {
      a.api.inject({ kind: 'expireAccessTokens' });
      this.stats.planned.tokenExpiry++;
      this.stats.observed.tokenExpiry++;
    }
    const options: Array<[FaultKind, number]> = [
      ['rateLimit429', p.rateLimit429],
      ['unavailable503', p.unavailable503],
      ['serverError500', p.serverError500],
    ];
    if (cls === 'download')
      options.push(['cutDownload', p.cutDownload], ['truncatedBody', p.truncatedBody]);
    if (cls === 'upload' && declaredLength(req) > 1) options.push(['cutUpload', p.cutUpload]);
    let r = this.rnd();
    const pick = options.find(([, prob]) => (r -= prob) < 0)?.[0];
    if (!pick) return;
    this.stats.planned[pick]++;
    switch (pick) {
      case 'rateLimit429':
      case 'unavailable503':
      case 'serverError500':
        a.api.inject({
          ...STATUS_OF[pick],
          // A 500 carries no Retry-After; 429 and 503 do.
          ...(pick === 'serverError500' ? {} : { retryAfterSeconds: p.retryAfterSeconds }),
          match: a.matchFor(cls, route),
        });
        return;
      case 'cutUpload': {
        this.pendingUploadCuts++;
        const afterBytes = 1 + Math.floor(this.rnd() * (declaredLength(req) - 1));
        a.api.inject({
          kind: 'cutUpload',
          afterBytes,
          keepBytes: a.keepOnCut(afterBytes, this.rnd),
          match: a.matchFor(cls, route),
        });
        return;
      }
      case 'cutDownload':
      case 'truncatedBody':
        this.faultDownload(res, pick);
        return;
    }
  }

  /** Counts what the client got: the status sent, or a connection closed without an answer. */
  private observe(res: ServerResponse, cls: ReqClass): void {
    res.on('close', () => {
      if (!res.headersSent) {
        // An upload the emulator cut (it never answers one); a client going away looks the
        // same, so only as many as were handed to the emulator count.
        if (cls === 'upload' && this.pendingUploadCuts > 0) {
          this.pendingUploadCuts--;
          this.stats.observed.cutUpload++;
        }
        return;
      }
      const s = res.statusCode;
      if (s === 429) this.stats.observed.rateLimit429++;
      else if (s === 503) this.stats.observed.unavailable503++;
      else if (s === 500) this.stats.observed.serverError500++;
      else if (s === 401) this.stats.unauthorized++;
    });
  }

  /**
   * Lets the emulator answer a download, then either drops the connection inside the body, or
   * ends the body cleanly but short (Content-Length removed: chunked framing). The cut point is
   * drawn from the response's own length, so it always falls strictly inside the body.
   */
  private faultDownload(res: ServerResponse, mode: 'cutDownload' | 'truncatedBody'): void {
    const rnd = this.rnd;
    const stats = this.stats;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    let limit = -1;
    let passed = 0;
    let stopped = false;
    (res as unknown as { writeHead: unknown }).writeHead = (status: number, ...args: unknown[]) => {
      if (status === 200 || status === 206) {
        const headers = args.find((x) => x && typeof x === 'object' && !Array.isArray(x)) as
          Record<string, unknown> | undefined;
        const key =
          headers && Object.keys(headers).find((k) => k.toLowerCase() === 'content-length');
        const len = Number((key ? headers![key] : res.getHeader('content-length')) ?? NaN);
        if (len >= 2) {
          limit = 1 + Math.floor(rnd() * (len - 1));
          stats.observed[mode]++;
          if (mode === 'truncatedBody') {
            if (key) delete headers![key];
            res.removeHeader('content-length');
          }
        }
      }
      return writeHead(status, ...args);
    };
    const stop = () => {
      stopped = true;
      if (mode === 'truncatedBody') end();
      else setTimeout(() => res.socket?.destroy(), 20);
    };
    (res as unknown as { write: unknown }).write = (chunk: unknown, ...args: unknown[]) => {
      const cb = args.find((x) => typeof x === 'function') as (() => void) | undefined;
      if (limit < 0) return write(chunk, ...args);
      if (stopped) {
        if (cb) setImmediate(cb);
        return true;
      }
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      if (passed + buf.length < limit) {
        passed += buf.length;
        return write(buf, ...args);
      }
      write(buf.subarray(0, limit - passed));
      passed = limit;
      stop();
      if (cb) setImmediate(cb);
      return true;
    };
    (res as unknown as { end: unknown }).end = (...args: unknown[]) => {
      if (limit < 0) return end(...args);
      const chunk = args.find((x) => Buffer.isBuffer(x) || typeof x === 'string');
      if (!stopped && chunk !== undefined) res.write(chunk);
      if (!stopped) {
        stopped = true;
        return end();
      }
      return res;
    };
  }
}

const chaos = new Chaos();

// Every server created from here on runs its requests past the chaos layer first.
{
  const original = http.createServer.bind(http) as (...args: unknown[]) => http.Server;
  (http as unknown as { createServer: unknown }).createServer = (...args: unknown[]) => {
    const handler = args.find((a) => typeof a === 'function') as
      ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    const rest = args.filter((a) => typeof a !== 'function');
    if (!handler) return original(...rest);
    return original(...rest, (req: IncomingMessage, res: ServerResponse) => {
      chaos.onRequest(req, res);
      handler(req, res);
    });
  };
  syncBuiltinESMExports();
}

// ---- one adapter per cloud ------------------------------------------------------------------

const DROPBOX_UPLOAD_ROUTES = new Set([
  'files/upload',
  'files/upload_session/start',
  'files/upload_session/append_v2',
  'files/upload_session/finish',
]);

async function adapterFor(kind: ChaosCloud): Promise<CloudAdapter> {
  switch (kind) {
    case 'dropbox': {
      const api = await startEmulator('dropbox', { port: 0, maxLongpollMs: 200 });
      return {
        api,
        classify: (_req, url) => {
          if (url.pathname.startsWith('/content/temp/'))
            return { cls: 'download', route: 'files/download' };
          const m = /^\/(api|content)\/2\/(.+)$/.exec(url.pathname);
          if (!m) return { cls: 'skip', route: '' };
          const route = m[2]!;
          if (route === 'files/download') return { cls: 'download', route };
          if (DROPBOX_UPLOAD_ROUTES.has(route)) return { cls: 'upload', route };
          return { cls: 'api', route };
        },
        // Dropbox faults wait for one route.
        matchFor: (_cls, route) => ({ pathIncludes: route }),
        // A session append keeps a random prefix of what it read (as a half-landed append).
        keepOnCut: (after, rnd) => Math.floor(rnd() * after),
      };
    }
    case 'google-drive': {
      const api = await startEmulator('google-drive', { port: 0, fixtures: false });
      return {
        api,
        classify: (req, url) => {
          const p = url.pathname;
          if (p.startsWith('/upload/drive/v3/'))
            return {
              cls: req.method === 'PUT' && declaredLength(req) > 0 ? 'upload' : 'api',
              route: p,
            };
          if (!p.startsWith('/drive/v3/')) return { cls: 'skip', route: '' };
          if (req.method === 'GET' && url.searchParams.get('alt') === 'media')
            return { cls: 'download', route: p };
          return { cls: 'api', route: p };
        },
        // Status faults wait for this path; a cut for the next session chunk.
        matchFor: (cls, route) =>
          cls === 'upload' ? { traffic: 'upload' } : { pathIncludes: route },
        // Drive keeps whole 256 KiB units of a broken chunk (its default for a cut).
        keepOnCut: () => undefined,
      };
    }
    case 'onedrive': {
      const api = await startEmulator('onedrive', { port: 0 });
      return {
        api,
        classify: (req, url) => {
          const p = url.pathname;
          if (p.startsWith('/v1.0/')) return { cls: 'api', route: p };
          if (p.startsWith('/up/'))
            return {
              cls: req.method === 'PUT' && declaredLength(req) > 0 ? 'upload' : 'api',
              route: p,
            };
          if (p.startsWith('/dl/') && req.method === 'GET') return { cls: 'download', route: p };
          return { cls: 'skip', route: '' };
        },
        // Graph faults wait by host: an upload-URL request without a body is still the upload
        // host's.
        matchFor: (cls, route) => ({
          traffic: cls === 'download' ? 'download' : route.startsWith('/up/') ? 'upload' : 'api',
        }),
        keepOnCut: () => 0,
      };
    }
  }
}

async function sha256Of(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path)) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** What the parent can ask over IPC; every answer is JSON. */
export interface ChaosHostOps {
  seed(args: {
    files: Array<{ path: string; size: number; seed: number }>;
    modifiedAt: string;
  }): null;
  tree(args: { folder: string }): StoredObject[];
  setPlan(args: { plan: FaultPlan | null }): null;
  stats(): ChaosStats;
  stop(): null;
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ChaosCloud;
  const a = await adapterFor(kind);
  chaos.adapter = a;
  const send = (m: unknown) => process.send?.(m);
  const ops: Record<keyof ChaosHostOps, (args: never) => Promise<unknown>> = {
    seed: async (args: Parameters<ChaosHostOps['seed']>[0]) => {
      const at = new Date(args.modifiedAt);
      for (const f of args.files)
        await a.api.seedFile(f.path, patternBytes(f.size, f.seed), { modifiedAt: at });
      return null;
    },
    tree: async (args: { folder: string }) => {
      const out: StoredObject[] = [];
      for (const o of a.api.storedFiles(args.folder))
        out.push({ path: o.path, ...(await sha256Of(o.storedPath)) });
      return out;
    },
    setPlan: async (args: { plan: FaultPlan | null }) => {
      chaos.configure(args.plan);
      return null;
    },
    stats: async () => chaos.stats,
    stop: async () => {
      await a.api.stop();
      setImmediate(() => process.exit(0));
      return null;
    },
  };
  process.on('message', (m: { id: number; op: keyof ChaosHostOps; args?: unknown }) => {
    const fn = ops[m.op] as ((args: unknown) => Promise<unknown>) | undefined;
    if (!fn) return send({ id: m.id, ok: false, error: `unknown op '${String(m.op)}'` });
    fn(m.args).then(
      (result) => send({ id: m.id, ok: true, result }),
      (e: unknown) => send({ id: m.id, ok: false, error: (e as Error).stack ?? String(e) }),
    );
  });
  process.on('disconnect', () => void a.api.stop().finally(() => process.exit(0)));
  send({ type: 'ready', info: a.api.info });
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
