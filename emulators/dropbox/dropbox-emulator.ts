import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ContentHash } from './content-hash.js';
import { FaultQueue, type FaultSpec } from './dropbox-emulator.faults.js';
import {
  badRequest,
  endpointError,
  headerSafeJson,
  HttpError,
  readSmallBody,
  sendHttpError,
  sendJson,
  sendText,
} from './dropbox-emulator.http.js';
import type { EmulatorControlApi } from '../emulator-control.js';
import { dropboxControlApi } from './dropbox.control-api.js';
import { OAuthState } from './dropbox-emulator.oauth.js';
import {
  DropboxStore,
  lower,
  parentOf,
  StoreError,
  type FileNode,
  type Node,
  type UploadSession,
  type WireMetadata,
} from './dropbox-emulator.store.js';

/**
 * A local fake of the Dropbox API v2 (shared/protocols/dropbox.md), strict like the real service:
 * each host (api / content / notify / www) lives under its own path prefix and rejects the routes
 * of the others; RPC routes take JSON bodies, content routes a `Dropbox-API-Arg` header of JSON in
 * ASCII with \uXXXX escapes or raw UTF-8 (Latin-1 bytes refused); errors are 409 JSON with `error_summary` + `error['.tag']`, 400
 * plain text for malformed input, 401 for tokens, 429 with Retry-After.
 */

export interface DropboxEmulatorOptions {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Access-token lifetime; Dropbox's is 4 h. */
  accessTokenLifetimeSeconds?: number;
  /** Per-request body cap of content routes; Dropbox's is 150 MiB. */
  maxRequestBytes?: number;
  /** Account size; writes past it fail with insufficient_space. */
  quotaBytes?: number;
  /** Longpoll waits at most this many ms whatever `timeout` says (keeps tests fast). */
  maxLongpollMs?: number;
  /**
   * Origins handed out for each host role (temporary links, the consent page's form), e.g.
   * `{ content: 'https://content.dropboxapi.com' }` behind a TLS front. Default: this server with
   * the role as a path prefix (`<baseUrl>/content`). Requests whose path has no role prefix are
   * routed by their Host header: api/content/notify.dropboxapi.com, www.dropbox.com, or the host
   * of one of these origins.
   */
  publicUrls?: Partial<Record<HostRole, string>>;
}

const ROOT_NAMESPACE_ID = '1';

export type HostRole = 'api' | 'content' | 'notify' | 'www';

/** Real host names per role, so that a TLS front can pass requests through unchanged. */
const REAL_HOSTS: Record<string, HostRole> = {
  'api.dropboxapi.com': 'api',
  'content.dropboxapi.com': 'content',
  'notify.dropboxapi.com': 'notify',
  'www.dropbox.com': 'www',
  'dropbox.com': 'www',
};

export interface RequestLogEntry {
  seq: number;
  host: string;
  route: string;
  method: string;
  /** Parsed Dropbox-API-Arg (content routes) or JSON body (RPC routes). */
  arg?: unknown;
  range?: string;
  /** Upload body bytes the emulator read. */
  bodyBytes?: number;
  /** Content-Length the client declared (set even when the request was refused unread). */
  declaredBytes?: number;
  status?: number;
  /** The emulator cut the connection (injected fault). */
  cut?: boolean;
}

export interface DropboxEmulatorControl {
  rateLimitNext(opts?: {
    route?: string;
    reason?: 'too_many_requests' | 'too_many_write_operations';
    retryAfterSeconds?: number;
  }): void;
  failNext(status: 500 | 503 | 507, opts?: { route?: string; retryAfterSeconds?: number }): void;
  /** The next download sends `afterBytes` of its body, then the connection drops. */
  cutNextDownload(afterBytes: number, opts?: { route?: string }): void;
  /** The next upload request reads `afterBytes`, keeps `keepBytes` of them, then the connection drops. */
  cutNextUpload(afterBytes: number, keepBytes?: number, opts?: { route?: string }): void;
  corruptNextCommit(): void;
  /** Queues any fault as the emulator models it (the shared control API's entry point). */
  pushFault(f: FaultSpec): void;
  expireAccessTokens(): void;
  revokeRefreshTokens(): void;
  setInsufficientSpace(on: boolean): void;
  setQuota(bytes: number): void;
  /** Every list_folder cursor issued so far answers `reset`. */
  resetCursors(): void;
  /** Upload sessions vanish (as after their 7-day lifetime): lookup answers not_found. */
  expireUploadSessions(): void;
  clearFaults(): void;
  readonly pendingFaults: readonly FaultSpec[];
  readonly refreshCount: number;
}

export interface DropboxEmulator {
  /** The control API shared by the four emulators. */
  api: EmulatorControlApi;
  /** Root of the emulator; hosts live under /api, /content, /notify, /www. */
  baseUrl: string;
  hosts: { api: string; content: string; notify: string; www: string };
  credentials: {
    clientId: string;
    clientSecret: string;
    refreshToken: string;
    accessToken: string;
    accessTokenExpiresAt: string;
  };
  control: DropboxEmulatorControl;
  requestLog: RequestLogEntry[];
  clearRequestLog(): void;
  seedFile(
    path: string,
    content: Buffer | string,
    opts?: { clientModified?: string },
  ): Promise<WireMetadata>;
  seedFolder(path: string): WireMetadata;
  /** Bytes stored at a path (test helper; fine for small files). */
  readFile(path: string): Promise<Buffer>;
  metadata(path: string): WireMetadata | undefined;
  store: DropboxStore;
  stop(): Promise<void>;
}

type HostName = 'api' | 'content' | 'notify';
type Style = 'rpc' | 'upload' | 'download';

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  route: string;
  arg: Record<string, unknown>;
  log: RequestLogEntry;
}

interface RouteDef {
  host: HostName;
  style: Style;
  auth: boolean;
  handler: (ctx: Ctx) => Promise<void> | void;
}

interface Cursor {
  v: 1;
  e: number;
  p: string;
  r: boolean;
  d: boolean;
  l: number;
  s: number;
  q?: string;
  o?: number;
}

const MiB = 1024 * 1024;
const BLOCK = 4 * MiB;
const WRITE_ROUTES = new Set([
  'files/upload',
  'files/upload_session/finish',
  'files/upload_session/finish_batch_v2',
  'files/create_folder_v2',
  'files/delete_v2',
  'files/copy_v2',
  'files/move_v2',
]);

export async function startDropboxEmulator(
  opts: DropboxEmulatorOptions = {},
): Promise<DropboxEmulator> {
  const store = await DropboxStore.create();
  if (opts.quotaBytes !== undefined) store.quotaBytes = opts.quotaBytes;
  const maxRequestBytes = opts.maxRequestBytes ?? 150 * MiB;
  const maxLongpollMs = opts.maxLongpollMs ?? 2000;
  const oauth = new OAuthState(
    opts.clientId ?? 'emu-app-key',
    opts.clientSecret ?? 'emu-app-secret',
    opts.accessTokenLifetimeSeconds ?? 14_400,
    () => Date.now(),
  );
  const faults = new FaultQueue();
  const requestLog: RequestLogEntry[] = [];
  const listings = new Map<string, WireMetadata[]>();
  const asyncJobs = new Map<string, { polls: number; entries: unknown[] }>();
  const tempLinks = new Map<string, { rev: string; expiresAt: number }>();
  let logSeq = 0;
  let epoch = 1;
  let insufficientSpace = false;
  let baseUrl = '';
  const publicUrls: Partial<Record<HostRole, string>> = { ...opts.publicUrls };
  const origin = (role: HostRole): string =>
    (publicUrls[role] ?? `${baseUrl}/${role}`).replace(/\/+$/, '');
  const roleOfHost = (hostHeader: string | undefined): HostRole | undefined => {
    const name = (hostHeader ?? '').toLowerCase();
    const bare = name.replace(/:\d+$/, '');
    if (REAL_HOSTS[bare]) return REAL_HOSTS[bare];
    for (const [role, url] of Object.entries(publicUrls)) {
      if (url && new URL(url).host.toLowerCase() === name) return role as HostRole;
    }
    return undefined;
  };

  // ---- cursors ---------------------------------------------------------------------------------

  const encodeCursor = (c: Omit<Cursor, 'v' | 'e'>): string =>
    `AA${Buffer.from(JSON.stringify({ v: 1, e: epoch, ...c })).toString('base64url')}`;

  const decodeCursor = (route: string, raw: unknown): Cursor => {
    if (typeof raw !== 'string' || !raw.startsWith('AA'))
      throw badRequest(route, 'request body: cursor: invalid cursor');
    let c: Cursor;
    try {
      c = JSON.parse(Buffer.from(raw.slice(2), 'base64url').toString('utf8')) as Cursor;
    } catch {
      throw badRequest(route, 'request body: cursor: invalid cursor');
    }
    if (c.v !== 1) throw badRequest(route, 'request body: cursor: invalid cursor');
    if (c.e !== epoch) throw endpointError({ '.tag': 'reset' }, 'reset');
    return c;
  };

  const inScope = (c: Pick<Cursor, 'p' | 'r'>, pl: string): boolean =>
    c.r ? c.p === '' || pl.startsWith(`${c.p}/`) : parentOf(pl) === c.p;

  // ---- validation ------------------------------------------------------------------------------

  const str = (route: string, arg: Record<string, unknown>, key: string): string => {
    const v = arg[key];
    if (typeof v !== 'string')
      throw badRequest(route, `request body: missing required field '${key}'`);
    return v;
  };
  const bool = (
    route: string,
    arg: Record<string, unknown>,
    key: string,
    dflt: boolean,
  ): boolean => {
    const v = arg[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean')
      throw badRequest(route, `request body: ${key}: expected boolean, got ${typeof v}`);
    return v;
  };
  /** Paths are '' (root, where allowed), '/a/b', 'id:...', or 'rev:...' (where allowed). */
  const checkPath = (
    route: string,
    key: string,
    p: string,
    allow: { root?: boolean; rev?: boolean } = {},
  ): string => {
    // Runs of slashes count as one: `//dir` (what a common client sends for every folder under
    // the root) is `/dir` at Dropbox.
    if (p.startsWith('/')) p = p.replace(/\/{2,}/g, '/');
    // `ns:<id>[/rel]` (the account's one namespace is its root) and `id:<id>/rel` (a path
    // relative to an item) come down to plain paths.
    const ns = /^ns:([0-9]+)(\/.*)?$/.exec(p);
    if (ns) {
      if (ns[1] !== ROOT_NAMESPACE_ID)
        throw endpointError({ '.tag': 'path', path: { '.tag': 'not_found' } }, 'path/not_found');
      p = (ns[2] ?? '').replace(/\/{2,}/g, '/');
    }
    const rel = /^(id:[^/]+)(\/.+)$/.exec(p);
    if (rel) {
      const base = store.resolve(rel[1]!);
      if (!base)
        throw endpointError({ '.tag': 'path', path: { '.tag': 'not_found' } }, 'path/not_found');
      p = `${base.pathDisplay}${rel[2]!}`.replace(/\/{2,}/g, '/');
    }
    if (p === '') {
      if (allow.root) return p;
      throw badRequest(route, `request body: ${key}: The root folder is unsupported.`);
    }
    if (p === '/')
      throw badRequest(
        route,
        `request body: ${key}: Specify the root folder as an empty string rather than as "/".`,
      );
    if (p.startsWith('id:') || (allow.rev && p.startsWith('rev:'))) return p;
    if (!p.startsWith('/') || p.endsWith('/')) {
      throw badRequest(
        route,
        `request body: ${key}: '${p}' did not match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)'`,
      );
    }
    return p;
  };
  const lookupError = (outer: string, n: Node | undefined, want?: 'file' | 'folder'): void => {
    if (!n)
      throw endpointError(
        { '.tag': outer, [outer]: { '.tag': 'not_found' } },
        `${outer}/not_found`,
      );
    if (want === 'file' && n.kind !== 'file')
      throw endpointError({ '.tag': outer, [outer]: { '.tag': 'not_file' } }, `${outer}/not_file`);
    if (want === 'folder' && n.kind !== 'folder')
      throw endpointError(
        { '.tag': outer, [outer]: { '.tag': 'not_folder' } },
        `${outer}/not_folder`,
      );
  };
  const storeCall = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreError) throw endpointError(e.error, e.summary);
      throw e;
    }
  };
  const commitArgs = (route: string, commit: Record<string, unknown>) => {
    const path = checkPath(route, 'path', str(route, commit, 'path'));
    const modeRaw = commit.mode ?? { '.tag': 'add' };
    const mode = (typeof modeRaw === 'string' ? { '.tag': modeRaw } : modeRaw) as {
      '.tag': string;
      update?: string;
    };
    if (!['add', 'overwrite', 'update'].includes(mode['.tag']))
      throw badRequest(route, `request body: mode: unknown tag '${mode['.tag']}'`);
    const cm = commit.client_modified;
    if (
      cm !== undefined &&
      (typeof cm !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(cm))
    ) {
      throw badRequest(
        route,
        `request body: client_modified: '${String(cm)}' is not a valid timestamp (%Y-%m-%dT%H:%M:%SZ)`,
      );
    }
    return {
      path,
      mode,
      autorename: bool(route, commit, 'autorename', false),
      clientModified: cm as string | undefined,
    };
  };

  // ---- upload bodies ---------------------------------------------------------------------------

  /**
   * Streams a request body into `file` at `position` (bounded memory), hashing it for a per-call
   * content_hash check. An injected cut keeps `keepBytes` and drops the connection.
   */
  const receiveBody = async (
    ctx: Ctx,
    file: string,
    position: number,
  ): Promise<{ bytes: number; hash: string; cut: boolean; aborted: boolean }> => {
    const declared = Number(ctx.req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxRequestBytes) {
      throw endpointError({ '.tag': 'payload_too_large' }, 'payload_too_large');
    }
    const cut = faults.take(ctx.route, ['cut_upload']);
    const socket = ctx.req.socket; // detached from req once the body iterator is closed
    const hash = new ContentHash();
    const fh = await open(file, 'r+');
    let bytes = 0;
    let aborted = false;
    let tooLarge = false;
    try {
      for await (const raw of ctx.req) {
        let chunk = raw as Buffer;
        if (cut && bytes + chunk.length >= cut.afterBytes)
          chunk = chunk.subarray(0, cut.afterBytes - bytes);
        if (bytes + chunk.length > maxRequestBytes) {
          tooLarge = true;
          break;
        }
        await fh.write(chunk, 0, chunk.length, position + bytes);
        hash.update(chunk);
        bytes += chunk.length;
        if (cut && bytes >= cut.afterBytes) break;
      }
    } catch {
      aborted = true; // the client went away mid-body
    } finally {
      await fh.close();
    }
    ctx.log.bodyBytes = bytes;
    if (tooLarge) {
      socket.destroy();
      return { bytes, hash: '', cut: true, aborted: true };
    }
    if (cut) {
      ctx.log.cut = true;
      socket.destroy();
      return { bytes: Math.min(bytes, cut.keepBytes), hash: '', cut: true, aborted: false };
    }
    return { bytes, hash: hash.digest(), cut: false, aborted };
  };

  const checkCallHash = (arg: Record<string, unknown>, got: string): void => {
    const want = arg.content_hash;
    if (want !== undefined && want !== got)
      throw endpointError({ '.tag': 'content_hash_mismatch' }, 'content_hash_mismatch');
  };

  const writeFailedUpload =
    (sessionId: string) => (reason: Record<string, unknown>, summary: string) =>
      new StoreError({ '.tag': 'path', reason, upload_session_id: sessionId }, `path/${summary}`);
  const writeFailedFinish = (reason: Record<string, unknown>, summary: string) =>
    new StoreError({ '.tag': 'path', path: reason }, `path/${summary}`);

  const lookupSession = (route: string, cursor: unknown, wrap: boolean): UploadSession => {
    const fail = (error: Record<string, unknown>, tags: string) =>
      wrap
        ? endpointError({ '.tag': 'lookup_failed', lookup_failed: error }, `lookup_failed/${tags}`)
        : endpointError(error, tags);
    if (!cursor || typeof cursor !== 'object')
      throw badRequest(route, "request body: missing required field 'cursor'");
    const c = cursor as Record<string, unknown>;
    const id = str(route, c, 'session_id');
    const offset = c.offset;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)
      throw badRequest(route, 'request body: cursor.offset: expected integer');
    const s = store.sessions.get(id);
    if (!s) throw fail({ '.tag': 'not_found' }, 'not_found');
    if (!s.concurrent && offset !== s.offset)
      throw fail({ '.tag': 'incorrect_offset', correct_offset: s.offset }, 'incorrect_offset');
    return s;
  };

  const commitSession = async (
    s: UploadSession,
    commit: ReturnType<typeof commitArgs>,
    wrap: (reason: Record<string, unknown>, summary: string) => StoreError,
  ): Promise<FileNode> => {
    if (s.concurrent) {
      let expect = 0;
      for (const [off, len] of [...s.pieces.entries()].sort((a, b) => a[0] - b[0])) {
        if (off !== expect)
          throw endpointError(
            {
              '.tag': 'lookup_failed',
              lookup_failed: { '.tag': 'concurrent_session_missing_data' },
            },
            'lookup_failed/concurrent_session_missing_data',
          );
        expect += len;
      }
    }
    const corrupt = faults.take('commit', ['corrupt_commit']) !== undefined;
    store.sessions.delete(s.id);
    return storeCall(() =>
      store.commitFile(
        commit.path,
        s.file,
        { ...commit, now: new Date(), insufficientSpace, corrupt },
        wrap,
      ),
    );
  };

  // ---- routes ----------------------------------------------------------------------------------

  const listFolder = (ctx: Ctx): void => {
    const { route, arg } = ctx;
    const path = checkPath(route, 'path', str(route, arg, 'path'), { root: true });
    const recursive = bool(route, arg, 'recursive', false);
    const includeDeleted = bool(route, arg, 'include_deleted', false);
    const limit = arg.limit === undefined ? 2000 : arg.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 2000) {
      throw badRequest(
        route,
        `request body: limit: ${String(limit)} is not within range [1, 2000]`,
      );
    }
    let dirLower = '';
    if (path !== '') {
      const n = store.resolve(path);
      lookupError('path', n, 'folder');
      dirLower = lower(n!.pathDisplay);
    }
    const scope = { p: dirLower, r: recursive };
    const ids = recursive ? store.descendants(dirLower) : store.childrenOf(dirLower);
    const items = ids.map((pl) => store.metadata(store.nodes.get(pl)!));
    if (includeDeleted)
      for (const [pl, t] of store.tombstones) if (inScope(scope, pl)) items.push(t);
    if (ctx.route === 'files/list_folder/get_latest_cursor') {
      sendJson(ctx.res, 200, {
        cursor: encodeCursor({ ...scope, d: includeDeleted, l: limit, s: store.seq }),
      });
      return;
    }
    const page = items.slice(0, limit);
    const hasMore = items.length > limit;
    let cursor: string;
    if (hasMore) {
      const q = randomBytes(8).toString('hex');
      listings.set(q, items);
      cursor = encodeCursor({ ...scope, d: includeDeleted, l: limit, s: store.seq, q, o: limit });
    } else {
      cursor = encodeCursor({ ...scope, d: includeDeleted, l: limit, s: store.seq });
    }
    sendJson(ctx.res, 200, { entries: page, cursor, has_more: hasMore });
  };

  const listFolderContinue = (ctx: Ctx): void => {
    const c = decodeCursor(ctx.route, ctx.arg.cursor);
    if (c.p !== '' && !store.nodes.has(c.p))
      throw endpointError({ '.tag': 'path', path: { '.tag': 'not_found' } }, 'path/not_found');
    if (c.q !== undefined) {
      const items = listings.get(c.q);
      if (!items) throw endpointError({ '.tag': 'reset' }, 'reset');
      const o = c.o ?? 0;
      const page = items.slice(o, o + c.l);
      const hasMore = o + c.l < items.length;
      const next = hasMore ? { ...c, o: o + c.l } : { p: c.p, r: c.r, d: c.d, l: c.l, s: c.s };
      sendJson(ctx.res, 200, { entries: page, cursor: encodeCursor(next), has_more: hasMore });
      return;
    }
    const entries: WireMetadata[] = [];
    let last = c.s;
    let hasMore = false;
    for (let i = c.s; i < store.log.length; i++) {
      const ev = store.log[i]!;
      if (entries.length >= c.l) {
        hasMore = true;
        break;
      }
      last = ev.seq;
      if (inScope(c, ev.pathLower)) entries.push(ev.metadata);
    }
    if (!hasMore) last = store.seq;
    sendJson(ctx.res, 200, {
      entries,
      cursor: encodeCursor({ p: c.p, r: c.r, d: c.d, l: c.l, s: last }),
      has_more: hasMore,
    });
  };

  const longpoll = async (ctx: Ctx): Promise<void> => {
    if (ctx.req.headers.authorization)
      throw badRequest(ctx.route, 'This endpoint does not accept an "Authorization" header');
    const c = decodeCursor(ctx.route, ctx.arg.cursor);
    const timeout = ctx.arg.timeout === undefined ? 30 : ctx.arg.timeout;
    if (typeof timeout !== 'number' || timeout < 30 || timeout > 480)
      throw badRequest(ctx.route, 'request body: timeout: not within range [30, 480]');
    const deadline = Date.now() + Math.min(timeout * 1000, maxLongpollMs);
    const changed = () => store.log.slice(c.s).some((ev) => inScope(c, ev.pathLower));
    while (!changed() && Date.now() < deadline && !ctx.req.socket.destroyed)
      await new Promise((r) => setTimeout(r, 25));
    sendJson(ctx.res, 200, { changes: changed() });
  };

  const download = async (ctx: Ctx, node: FileNode): Promise<void> => {
    const { req, res } = ctx;
    const size = node.size;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Dropbox-API-Result': headerSafeJson(store.metadata(node)),
      'Accept-Ranges': 'bytes',
      ETag: `W/"${node.rev}"`,
    };
    if (range) {
      ctx.log.range = range;
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== '' || m[2] !== '')) {
        if (m[1] === '') {
          start = Math.max(0, size - Number(m[2]));
        } else {
          start = Number(m[1]);
          if (m[2] !== '') end = Math.min(end, Number(m[2]));
        }
        if (start >= size || end < start) {
          sendText(res, 416, 'Range Not Satisfiable', { 'Content-Range': `bytes */${size}` });
          return;
        }
        status = 206;
        headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      }
    }
    const length = size === 0 ? 0 : end - start + 1;
    headers['Content-Length'] = length;
    const cut = faults.take(ctx.route, ['cut_download']);
    res.writeHead(status, headers);
    if (length === 0) {
      res.end();
      return;
    }
    if (cut) {
      ctx.log.cut = true;
      const upto = Math.min(length, cut.afterBytes);
      if (upto > 0) {
        await pipeline(createReadStream(node.blob, { start, end: start + upto - 1 }), res, {
          end: false,
        });
      }
      // Let the partial body reach the socket, then drop the connection mid-body.
      await new Promise((r) => setTimeout(r, 20));
      res.socket?.destroy();
      return;
    }
    await pipeline(createReadStream(node.blob, { start, end, highWaterMark: 1024 * 1024 }), res);
  };

  const routes: Record<string, RouteDef> = {
    'files/list_folder': { host: 'api', style: 'rpc', auth: true, handler: listFolder },
    'files/list_folder/get_latest_cursor': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: listFolder,
    },
    'files/list_folder/continue': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: listFolderContinue,
    },
    'files/list_folder/longpoll': { host: 'notify', style: 'rpc', auth: false, handler: longpoll },
    'files/get_metadata': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) => {
        const path = checkPath(ctx.route, 'path', str(ctx.route, ctx.arg, 'path'), { rev: true });
        const n = store.resolve(path);
        if (!n && bool(ctx.route, ctx.arg, 'include_deleted', false)) {
          const t = store.tombstones.get(lower(path));
          if (t) return sendJson(ctx.res, 200, t);
        }
        lookupError('path', n);
        sendJson(ctx.res, 200, store.metadata(n!));
      },
    },
    'files/create_folder_v2': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => {
        const path = checkPath(ctx.route, 'path', str(ctx.route, ctx.arg, 'path'));
        const n = await storeCall(() => store.createFolder(path));
        sendJson(ctx.res, 200, { metadata: store.metadata(n) });
      },
    },
    'files/delete_v2': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => {
        const path = checkPath(ctx.route, 'path', str(ctx.route, ctx.arg, 'path'));
        const n = await storeCall(() => store.remove(path));
        sendJson(ctx.res, 200, { metadata: store.metadata(n) });
      },
    },
    'files/copy_v2': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => {
        const from = checkPath(ctx.route, 'from_path', str(ctx.route, ctx.arg, 'from_path'));
        const to = checkPath(ctx.route, 'to_path', str(ctx.route, ctx.arg, 'to_path'));
        const n = await storeCall(() => store.copy(from, to, new Date(), insufficientSpace));
        sendJson(ctx.res, 200, { metadata: store.metadata(n) });
      },
    },
    'files/move_v2': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => {
        const from = checkPath(ctx.route, 'from_path', str(ctx.route, ctx.arg, 'from_path'));
        const to = checkPath(ctx.route, 'to_path', str(ctx.route, ctx.arg, 'to_path'));
        const n = await storeCall(() => store.move(from, to));
        sendJson(ctx.res, 200, { metadata: store.metadata(n) });
      },
    },
    'files/get_temporary_link': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) => {
        const path = checkPath(ctx.route, 'path', str(ctx.route, ctx.arg, 'path'), { rev: true });
        const n = store.resolve(path);
        lookupError('path', n, 'file');
        const token = randomBytes(16).toString('hex');
        tempLinks.set(token, { rev: (n as FileNode).rev, expiresAt: Date.now() + 4 * 3600 * 1000 });
        sendJson(ctx.res, 200, {
          metadata: store.metadata(n!),
          link: `${origin('content')}/temp/${token}`,
        });
      },
    },
    'users/get_current_account': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) =>
        sendJson(ctx.res, 200, {
          account_id: 'dbid:AAemulatoraccount',
          name: {
            given_name: 'Emu',
            surname: 'Lator',
            familiar_name: 'Emu',
            display_name: 'Emu Lator',
            abbreviated_name: 'EL',
          },
          email: 'emulator@example.invalid',
          email_verified: true,
          disabled: false,
          country: 'FR',
          locale: 'en',
          account_type: { '.tag': 'basic' },
          root_info: {
            '.tag': 'user',
            root_namespace_id: ROOT_NAMESPACE_ID,
            home_namespace_id: ROOT_NAMESPACE_ID,
          },
        }),
    },
    'users/get_space_usage': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) =>
        sendJson(ctx.res, 200, {
          used: store.usedBytes,
          allocation: { '.tag': 'individual', allocated: store.quotaBytes },
        }),
    },
    'auth/token/revoke': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) => {
        oauth.revokeAccessToken(bearerOf(ctx.req) ?? '');
        sendJson(ctx.res, 200, null);
      },
    },
    'files/download': {
      host: 'content',
      style: 'download',
      auth: true,
      handler: async (ctx) => {
        const path = checkPath(ctx.route, 'path', str(ctx.route, ctx.arg, 'path'), { rev: true });
        const n = store.resolve(path);
        lookupError('path', n, 'file');
        await download(ctx, n as FileNode);
      },
    },
    'files/upload': {
      host: 'content',
      style: 'upload',
      auth: true,
      handler: async (ctx) => {
        const commit = commitArgs(ctx.route, ctx.arg);
        const file = store.newIncomingFile();
        await (await open(file, 'w')).close();
        try {
          const body = await receiveBody(ctx, file, 0);
          if (body.cut || body.aborted) return;
          checkCallHash(ctx.arg, body.hash);
        } catch (e) {
          await rm(file, { force: true });
          throw e;
        }
        const corrupt = faults.take('commit', ['corrupt_commit']) !== undefined;
        const n = await storeCall(() =>
          store.commitFile(
            commit.path,
            file,
            { ...commit, now: new Date(), insufficientSpace, corrupt },
            writeFailedUpload(''),
          ),
        );
        sendJson(ctx.res, 200, store.metadata(n));
      },
    },
    'files/upload_session/start': {
      host: 'content',
      style: 'upload',
      auth: true,
      handler: async (ctx) => {
        const type =
          (ctx.arg.session_type as { '.tag'?: string } | undefined)?.['.tag'] ?? 'sequential';
        const s = await store.startSession(type === 'concurrent');
        const body = await receiveBody(ctx, s.file, 0);
        if (body.cut || body.aborted) {
          await store.dropSession(s);
          return;
        }
        if (s.concurrent && body.bytes > 0) {
          await store.dropSession(s);
          throw endpointError(
            { '.tag': 'concurrent_session_data_not_allowed' },
            'concurrent_session_data_not_allowed',
          );
        }
        try {
          checkCallHash(ctx.arg, body.hash);
        } catch (e) {
          await store.dropSession(s);
          throw e;
        }
        s.offset = body.bytes;
        s.closed = bool(ctx.route, ctx.arg, 'close', false);
        sendJson(ctx.res, 200, { session_id: s.id });
      },
    },
    'files/upload_session/append_v2': {
      host: 'content',
      style: 'upload',
      auth: true,
      handler: async (ctx) => {
        const s = lookupSession(ctx.route, ctx.arg.cursor, false);
        if (s.closed) throw endpointError({ '.tag': 'closed' }, 'closed');
        const offset = (ctx.arg.cursor as { offset: number }).offset;
        const close = bool(ctx.route, ctx.arg, 'close', false);
        const before = s.offset;
        const body = await receiveBody(ctx, s.file, offset);
        if (s.concurrent) {
          if (body.cut || body.aborted) return;
          if (!close && body.bytes % BLOCK !== 0) {
            throw endpointError(
              { '.tag': 'concurrent_session_invalid_data_size' },
              'concurrent_session_invalid_data_size',
            );
          }
          if (offset % BLOCK !== 0)
            throw endpointError(
              { '.tag': 'concurrent_session_invalid_offset' },
              'concurrent_session_invalid_offset',
            );
          s.pieces.set(offset, body.bytes);
          s.offset = Math.max(s.offset, offset + body.bytes);
          if (close) s.closed = true;
          sendJson(ctx.res, 200, null);
          return;
        }
        if (body.cut) {
          // Part of the chunk landed before the connection broke: the session keeps it.
          s.offset = before + body.bytes;
          await store.truncateSession(s, s.offset);
          return;
        }
        if (body.aborted) {
          await store.truncateSession(s, before);
          return;
        }
        try {
          checkCallHash(ctx.arg, body.hash);
        } catch (e) {
          await store.truncateSession(s, before);
          throw e;
        }
        s.offset = before + body.bytes;
        if (close) s.closed = true;
        sendJson(ctx.res, 200, null);
      },
    },
    'files/upload_session/finish': {
      host: 'content',
      style: 'upload',
      auth: true,
      handler: async (ctx) => {
        const s = lookupSession(ctx.route, ctx.arg.cursor, true);
        const commitRaw = ctx.arg.commit;
        if (!commitRaw || typeof commitRaw !== 'object')
          throw badRequest(ctx.route, "request body: missing required field 'commit'");
        const commit = commitArgs(ctx.route, commitRaw as Record<string, unknown>);
        const before = s.offset;
        const body = await receiveBody(ctx, s.file, (ctx.arg.cursor as { offset: number }).offset);
        if (body.cut || body.aborted) {
          await store.truncateSession(s, before); // a cut finish commits nothing
          return;
        }
        if (s.closed && body.bytes > 0) {
          await store.truncateSession(s, before);
          throw endpointError(
            { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'closed' } },
            'lookup_failed/closed',
          );
        }
        try {
          checkCallHash(ctx.arg, body.hash);
        } catch (e) {
          await store.truncateSession(s, before);
          throw e;
        }
        s.offset = before + body.bytes;
        const n = await commitSession(s, commit, writeFailedFinish);
        sendJson(ctx.res, 200, store.metadata(n));
      },
    },
    'files/upload_session/finish_batch_v2': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => sendJson(ctx.res, 200, { entries: await finishBatch(ctx) }),
    },
    'files/upload_session/finish_batch': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: async (ctx) => {
        const entries = await finishBatch(ctx);
        const id = `dbjid:${randomBytes(12).toString('base64url')}`;
        asyncJobs.set(id, { polls: 0, entries });
        sendJson(ctx.res, 200, { '.tag': 'async_job_id', async_job_id: id });
      },
    },
    'files/upload_session/finish_batch/check': {
      host: 'api',
      style: 'rpc',
      auth: true,
      handler: (ctx) => {
        const job = asyncJobs.get(str(ctx.route, ctx.arg, 'async_job_id'));
        if (!job) throw endpointError({ '.tag': 'invalid_async_job_id' }, 'invalid_async_job_id');
        job.polls += 1;
        if (job.polls === 1) return sendJson(ctx.res, 200, { '.tag': 'in_progress' });
        sendJson(ctx.res, 200, { '.tag': 'complete', entries: job.entries });
      },
    },
  };

  const finishBatch = async (ctx: Ctx): Promise<unknown[]> => {
    const entries = ctx.arg.entries;
    if (!Array.isArray(entries) || entries.length > 1000)
      throw badRequest(ctx.route, 'request body: entries: expected list of at most 1000 items');
    const out: unknown[] = [];
    for (const raw of entries as Array<Record<string, unknown>>) {
      try {
        const s = lookupSession(ctx.route, raw.cursor, true);
        if (!s.closed)
          throw endpointError(
            { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_closed' } },
            'lookup_failed/not_closed',
          );
        const commit = commitArgs(ctx.route, (raw.commit ?? {}) as Record<string, unknown>);
        const n = await commitSession(s, commit, writeFailedFinish);
        out.push({ ...store.metadata(n), '.tag': 'success' });
      } catch (e) {
        if (!(e instanceof HttpError) || e.status !== 409) throw e;
        out.push({ '.tag': 'failure', failure: (e.body as { error: unknown }).error });
      }
    }
    return out;
  };

  // ---- dispatch --------------------------------------------------------------------------------

  const bearerOf = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization;
    return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
  };

  const applyFaults = (route: string): void => {
    const f = faults.take(route, ['rate_limit', 'status']);
    if (!f) return;
    if (f.kind === 'rate_limit') {
      throw new HttpError(
        429,
        {
          error_summary: `${f.reason}/`,
          error: { reason: { '.tag': f.reason }, retry_after: f.retryAfterSeconds },
        },
        { 'Retry-After': String(f.retryAfterSeconds) },
      );
    }
    const headers: Record<string, string> =
      f.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(f.retryAfterSeconds) };
    if (f.status === 507) {
      throw new HttpError(
        507,
        { error_summary: 'insufficient_space/', error: { '.tag': 'insufficient_space' } },
        headers,
      );
    }
    throw new HttpError(
      f.status,
      f.status === 503 ? 'Service Unavailable' : 'Internal Server Error',
      headers,
    );
  };

  const parseArg = async (
    ctx: Omit<Ctx, 'arg'>,
    def: RouteDef,
  ): Promise<Record<string, unknown>> => {
    const { req, route } = ctx;
    if (def.style === 'rpc') {
      const body = await readSmallBody(req);
      const text = body.toString('utf8').trim();
      if (text === '' || text === 'null') return {};
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (ct !== 'application/json' && ct !== 'text/plain') {
        throw new HttpError(
          400,
          `Error in call to API function "${route}": Bad HTTP "Content-Type" header: "${ct}".  Expecting one of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".`,
        );
      }
      try {
        const parsed: unknown = JSON.parse(text);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object');
        return parsed as Record<string, unknown>;
      } catch {
        throw badRequest(route, 'request body: could not decode input as JSON');
      }
    }
    if (def.style === 'upload') {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (ct !== 'application/octet-stream' && ct !== 'text/plain') {
        throw new HttpError(
          400,
          `Error in call to API function "${route}": Bad HTTP "Content-Type" header: "${ct}".  Expecting one of "application/octet-stream", "text/plain; charset=dropbox-cors-hack".`,
        );
      }
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const raw =
      (req.headers['dropbox-api-arg'] as string | undefined) ??
      url.searchParams.get('arg') ??
      undefined;
    if (raw === undefined)
      throw badRequest(route, 'Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".');
    // The SDK escapes non-ASCII as \uXXXX, but the service also takes raw UTF-8 bytes (Node hands
    // header bytes over as Latin-1 characters); what is not valid UTF-8 (Latin-1 text) is refused.
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'latin1'));
    } catch {
      throw badRequest(route, 'HTTP header "Dropbox-API-Arg": could not decode input as JSON');
    }
    if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw badRequest(route, 'HTTP header "Dropbox-API-Arg": could not decode input as JSON');
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      return parsed as Record<string, unknown>;
    } catch {
      throw badRequest(route, 'HTTP header "Dropbox-API-Arg": could not decode input as JSON');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const m = /^\/(api|content|notify|www|_control)(\/.*)?$/.exec(url.pathname);
    const byHost = m ? undefined : roleOfHost(req.headers.host);
    const host = m?.[1] ?? byHost ?? '';
    const rest = m?.[2] ?? (byHost ? url.pathname : '');
    const log: RequestLogEntry = {
      seq: ++logSeq,
      host,
      route: rest.replace(/^\/2\//, ''),
      method: req.method ?? '',
    };
    if (req.headers['content-length'] !== undefined)
      log.declaredBytes = Number(req.headers['content-length']);
    requestLog.push(log);
    res.on('finish', () => (log.status = res.statusCode));
    try {
      if (host === '_control') return await handleControl(req, res, rest);
      if (host === 'www') {
        if (rest === '/oauth2/authorize') return oauth.handleAuthorize(res, url, origin('www'));
        if (rest === '/oauth2/authorize/decide') return oauth.handleDecision(res, url);
        throw new HttpError(404, 'Not Found');
      }
      // `/1/oauth2/token` is the legacy path Dropbox still serves (its Go SDK hard-codes it).
      if (host === 'api' && (rest === '/oauth2/token' || rest === '/1/oauth2/token')) {
        if (faults.pending.some((f) => f.route === 'oauth2/token')) applyFaults('oauth2/token');
        return await oauth.handleToken(req, res, url);
      }
      if (host === 'content' && rest.startsWith('/temp/'))
        return await serveTempLink(req, res, rest.slice(6), log);
      if (!rest.startsWith('/2/')) throw new HttpError(404, 'Not Found');
      const route = rest.slice(3);
      const def = routes[route];
      if (!def) throw new HttpError(404, `Unknown API function: "${route}"`);
      if (def.host !== host) {
        throw badRequest(
          route,
          `This function is served by ${def.host}.dropboxapi.com, not ${host}.dropboxapi.com.`,
        );
      }
      if (req.method !== 'POST') throw new HttpError(405, 'Method Not Allowed');
      if (def.auth) {
        const authz = req.headers.authorization;
        if (!authz)
          throw badRequest(
            route,
            'Must provide HTTP header "Authorization" or URL parameter "authorization".',
          );
        const token = bearerOf(req);
        if (!token)
          throw badRequest(
            route,
            'Invalid authorization value in HTTP header "Authorization": expected "Bearer <oauth2-access-token>".',
          );
        const state = oauth.check(token);
        if (state !== 'ok') {
          const tag = state === 'expired' ? 'expired_access_token' : 'invalid_access_token';
          throw new HttpError(401, { error_summary: `${tag}/`, error: { '.tag': tag } });
        }
      }
      if (def.auth) checkNamespaceHeaders(route, req);
      const arg = await parseArg({ req, res, route, log }, def);
      log.arg = arg;
      applyFaults(route);
      if (WRITE_ROUTES.has(route)) applyFaults(`write:${route}`);
      await def.handler({ req, res, route, arg, log });
    } catch (e) {
      if (e instanceof HttpError) return sendHttpError(res, e);
      if (!res.headersSent) sendText(res, 500, `Internal Server Error: ${(e as Error).message}`);
      else res.destroy();
    }
  };

  const serveTempLink = async (
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
    log: RequestLogEntry,
  ): Promise<void> => {
    if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
    const link = tempLinks.get(token);
    if (!link || link.expiresAt < Date.now()) throw new HttpError(410, 'Gone');
    const n = store.resolve(`rev:${link.rev}`);
    if (!n || n.kind !== 'file') throw new HttpError(404, 'Not Found');
    await download({ req, res, route: 'files/download', arg: {}, log }, n);
  };

  const control: DropboxEmulatorControl = {
    rateLimitNext: (o = {}) =>
      faults.push({
        kind: 'rate_limit',
        reason: o.reason ?? 'too_many_requests',
        retryAfterSeconds: o.retryAfterSeconds ?? 1,
        route: o.route,
      }),
    failNext: (status, o = {}) =>
      faults.push({
        kind: 'status',
        status,
        retryAfterSeconds: o.retryAfterSeconds,
        route: o.route,
      }),
    cutNextDownload: (afterBytes, o = {}) =>
      faults.push({ kind: 'cut_download', afterBytes, route: o.route }),
    cutNextUpload: (afterBytes, keepBytes = 0, o = {}) =>
      faults.push({
        kind: 'cut_upload',
        afterBytes,
        keepBytes: Math.min(keepBytes, afterBytes),
        route: o.route,
      }),
    corruptNextCommit: () => faults.push({ kind: 'corrupt_commit', route: 'commit' }),
    pushFault: (f) => faults.push(f),
    expireAccessTokens: () => oauth.expireAccessTokens(),
    revokeRefreshTokens: () => oauth.revokeRefreshTokens(),
    setInsufficientSpace: (on) => {
      insufficientSpace = on;
    },
    setQuota: (bytes) => {
      store.quotaBytes = bytes;
    },
    resetCursors: () => {
      epoch += 1;
      listings.clear();
    },
    expireUploadSessions: () => {
      for (const s of [...store.sessions.values()]) void store.dropSession(s);
    },
    clearFaults: () => faults.clear(),
    get pendingFaults() {
      return faults.pending;
    },
    get refreshCount() {
      return oauth.refreshCount;
    },
  };

  /** POST /_control/<action> with a JSON body: the same control surface for other processes. */
  const handleControl = async (
    req: IncomingMessage,
    res: ServerResponse,
    rest: string,
  ): Promise<void> => {
    const action = rest.replace(/^\//, '');
    if (req.method === 'GET' && action === 'requestLog') return sendJson(res, 200, requestLog);
    const body = await readSmallBody(req);
    const a = (body.length ? JSON.parse(body.toString('utf8')) : {}) as Record<string, never>;
    switch (action) {
      case 'rateLimitNext':
        control.rateLimitNext(a);
        break;
      case 'failNext':
        control.failNext(a.status, a);
        break;
      case 'cutNextDownload':
        control.cutNextDownload(a.afterBytes, a);
        break;
      case 'cutNextUpload':
        control.cutNextUpload(a.afterBytes, a.keepBytes, a);
        break;
      case 'corruptNextCommit':
        control.corruptNextCommit();
        break;
      case 'expireAccessTokens':
        control.expireAccessTokens();
        break;
      case 'revokeRefreshTokens':
        control.revokeRefreshTokens();
        break;
      case 'setInsufficientSpace':
        control.setInsufficientSpace(Boolean(a.on));
        break;
      case 'setQuota':
        control.setQuota(a.bytes);
        break;
      case 'resetCursors':
        control.resetCursors();
        break;
      case 'expireUploadSessions':
        control.expireUploadSessions();
        break;
      case 'clearFaults':
        control.clearFaults();
        break;
      case 'clearRequestLog':
        requestLog.length = 0;
        break;
      default:
        throw new HttpError(404, `unknown control action '${action}'`);
    }
    sendJson(res, 200, { ok: true });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  baseUrl = `http://${addr.address}:${addr.port}`;

  const refreshToken = oauth.issueRefreshToken(true);
  const first = oauth.issueAccessToken();

  const emulatorHandle: Omit<DropboxEmulator, 'api'> = {
    baseUrl,
    hosts: {
      api: `${baseUrl}/api`,
      content: `${baseUrl}/content`,
      notify: `${baseUrl}/notify`,
      www: `${baseUrl}/www`,
    },
    credentials: {
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      refreshToken,
      accessToken: first.token,
      accessTokenExpiresAt: new Date(Date.now() + first.expiresIn * 1000).toISOString(),
    },
    control,
    requestLog,
    clearRequestLog: () => {
      requestLog.length = 0;
    },
    seedFile: async (path, content, o = {}) => {
      const file = store.newIncomingFile();
      const fh = await open(file, 'w');
      await fh.writeFile(typeof content === 'string' ? Buffer.from(content) : content);
      await fh.close();
      const n = await storeCall(() =>
        store.commitFile(
          path,
          file,
          {
            mode: { '.tag': 'overwrite' },
            autorename: false,
            clientModified: o.clientModified,
            now: new Date(),
            insufficientSpace: false,
            corrupt: false,
          },
          writeFailedFinish,
        ),
      );
      return store.metadata(n);
    },
    seedFolder: (path) => {
      const existing = store.resolve(path);
      return store.metadata(existing ?? store.createFolder(path));
    },
    readFile: async (path) => {
      const n = store.resolve(path);
      if (!n || n.kind !== 'file') throw new Error(`no file at ${path}`);
      return readFile(n.blob);
    },
    metadata: (path) => {
      const n = store.resolve(path);
      return n ? store.metadata(n) : undefined;
    },
    store,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.destroy();
    },
  };
  return { ...emulatorHandle, api: dropboxControlApi(emulatorHandle) };
}

/**
 * `Dropbox-API-Path-Root` (the namespace paths are relative to) and the team headers. The one
 * account has one namespace: `home`, or `root`/`namespace_id` naming it, are served; another
 * answers Dropbox's 422 path-root error. `Dropbox-API-Select-User`/`-Select-Admin` are for team
 * apps: a user's token is refused.
 */
function checkNamespaceHeaders(route: string, req: IncomingMessage): void {
  for (const h of ['dropbox-api-select-user', 'dropbox-api-select-admin']) {
    if (req.headers[h] !== undefined) {
      const name = h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
      throw badRequest(
        route,
        `Unexpected "${name.replace('Api', 'API')}" header: the access token belongs to a user, not a team.`,
      );
    }
  }
  const raw = req.headers['dropbox-api-path-root'];
  if (raw === undefined) return;
  const invalid = (why: string) =>
    badRequest(route, `Invalid value for HTTP header "Dropbox-API-Path-Root": ${why}.`);
  let root: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(String(raw));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error();
    root = v as Record<string, unknown>;
  } catch {
    throw invalid('could not decode input as JSON');
  }
  const pathRootError = (error: Record<string, unknown>) =>
    new HttpError(422, { error_summary: `${String(error['.tag'])}/..`, error });
  switch (root['.tag']) {
    case 'home':
      return;
    case 'root':
      if (typeof root.root !== 'string') throw invalid("'root' must be a namespace id string");
      if (root.root === ROOT_NAMESPACE_ID) return;
      throw pathRootError({
        '.tag': 'invalid_root',
        invalid_root: {
          '.tag': 'user',
          root_namespace_id: ROOT_NAMESPACE_ID,
          home_namespace_id: ROOT_NAMESPACE_ID,
        },
      });
    case 'namespace_id':
      if (typeof root.namespace_id !== 'string')
        throw invalid("'namespace_id' must be a namespace id string");
      if (root.namespace_id === ROOT_NAMESPACE_ID) return;
      throw pathRootError({ '.tag': 'no_permission' });
    default:
      throw invalid(`unknown tag '${String(root['.tag'])}' (expected home, root or namespace_id)`);
  }
}
