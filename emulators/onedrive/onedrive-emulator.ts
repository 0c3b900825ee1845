import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { BlobStore, type Blob, type BlobWriter } from './blob-store.js';
import { Drive, invalidNameReason, type ConflictBehavior, type Item } from './drive-model.js';
import {
  base64url,
  EMULATOR_HOSTS,
  FRAGMENT_ALIGNMENT,
  fromBase64url,
  HttpError,
  MAX_FRAGMENT_BYTES,
  MAX_SIMPLE_UPLOAD_BYTES,
  parseRangeHeader,
  readJson,
  sendGraphError,
  sendJson,
  type HostRole,
} from './graph-wire.js';
import { assertTenant, IdentityPlatform } from './identity-platform.js';
import {
  checkQueryOptions,
  compareKeys,
  parseFilter,
  parseOrderBy,
  sortKeyOf,
} from './graph-query.js';
import { oneDriveControlApi } from './onedrive.control-api.js';
import type { EmulatorControlApi } from '../emulator-control.js';

export interface OneDriveEmulatorOptions {
  port?: number;
  /** Loopback only. */
  host?: '127.0.0.1' | 'localhost' | '::1';
  clientId?: string;
  /** Set for a confidential app registration; public clients (the default) have none. */
  clientSecret?: string;
  redirectUris?: string[];
  accessTokenTtlSec?: number;
  quotaBytes?: number;
  uploadSessionTtlMs?: number;
  downloadUrlTtlMs?: number;
  /**
   * Answer 401 when an Authorization header reaches an upload or download URL. Off by default:
   * the documentation says the header "may" fail on uploads and is "not required" on downloads,
   * and widely used clients send it; turn it on (or `control.rejectBearerOnPreauthUrls(true)`)
   * to test that a client does not.
   */
  rejectBearerOnPreauthUrls?: boolean;
  /**
   * Origins handed out in absolute URLs, per role (default `https://graph.microsoft.com`,
   * `https://login.microsoftonline.com`, and https fake hosts for uploads, downloads and copy
   * monitors). Set them to the names a TLS front serves to run a client with no base-URL setting.
   * Downloads are meant to be on another host than the API, as the real CDN is.
   */
  publicUrls?: Partial<Record<PublicRole, string>>;
  /** Refuse a second upload session for a path while one is open (microsoft-graph-docs #5812). */
  oneSessionPerPath?: boolean;
  /** Monitor polls answered "inProgress" before a copy reports "completed". */
  copyPollsBeforeDone?: number;
  driveType?: 'personal' | 'business';
}

export type PublicRole = 'graph' | 'login' | 'upload' | 'download' | 'monitor';

export type FaultTarget = 'graph' | 'upload' | 'download' | 'token' | 'monitor' | 'any';

interface StatusFault {
  kind: 'status';
  target: FaultTarget;
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}
interface CutFault {
  kind: 'cutDownload' | 'cutUpload';
  afterBytes: number;
  keepPartial: boolean;
  /** Requests of that kind let through untouched before this one fires. */
  skip: number;
}
interface HashFault {
  kind: 'misreportHash';
}
type Fault = StatusFault | CutFault | HashFault;

export interface RequestLogEntry {
  seq: number;
  role: HostRole;
  method: string;
  /** Path and query as received. */
  url: string;
  status: number;
  range?: string;
  contentRange?: string;
  contentLength?: number;
  hasAuthorization: boolean;
  /** Name of the injected fault, when one fired on this request. */
  fault?: string;
  /** For fragment PUTs: bytes the server kept from this request. */
  committedBytes?: number;
}

interface UploadSession {
  id: string;
  drive: Drive;
  parentId: string;
  name: string;
  /** Content replaced through /items/{id}/createUploadSession. */
  itemId?: string;
  conflictBehavior: ConflictBehavior;
  fsModifiedAt?: Date;
  writer: BlobWriter;
  committed: number;
  total?: number;
  expiresAt: number;
}

interface CopyOperation {
  id: string;
  polls: number;
  status: 'inProgress' | 'completed' | 'failed';
  resourceId?: string;
  error?: { code: string; message: string };
}

export interface OneDriveEmulatorCredentials {
  clientId: string;
  clientSecret?: string;
  refreshToken: string;
  accessToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  driveId: string;
}

export interface OneDriveEmulatorControl {
  /** Next request(s) to `target` answer 429 activityLimitReached with Retry-After. */
  rateLimitNext(opts?: { retryAfterSec?: number; target?: FaultTarget; count?: number }): void;
  /** Next request(s) answer 503 serviceNotAvailable, with Retry-After only when given. */
  serviceUnavailableNext(opts?: {
    retryAfterSec?: number;
    target?: FaultTarget;
    count?: number;
  }): void;
  /** Next request(s) answer a plain server error (500 generalException by default). */
  failNext(opts?: { status?: number; code?: string; target?: FaultTarget; count?: number }): void;
  /** The next download body stops after `afterBytes` bytes: the socket is destroyed. */
  cutNextDownload(afterBytes: number): void;
  /** The next fragment PUT is cut after `afterBytes` body bytes; with keepPartial the server commits them. */
  cutNextUploadFragment(
    afterBytes: number,
    opts?: { keepPartial?: boolean; skipFragments?: number },
  ): void;
  /** The next committed upload reports a wrong quickXorHash (as if the stored bytes differed). */
  misreportNextHash(): void;
  expireToken(): void;
  /** Every refresh token becomes invalid_grant (password reset, consent removed). */
  revokeRefreshTokens(): void;
  expireUploadSessions(): void;
  expireDownloadUrls(): void;
  /** Older delta tokens answer 410 resyncRequired. */
  expireDeltaTokens(): void;
  setQuota(totalBytes: number): void;
  /** Changes the origins handed out in absolute URLs (see the publicUrls option). */
  setPublicUrls(urls: Partial<Record<PublicRole, string>>): void;
  /** From now on, 401 when an Authorization header reaches an upload or download URL (or not). */
  rejectBearerOnPreauthUrls(on: boolean): void;
  /** Drops pending faults. */
  clearFaults(): void;
  pendingFaults(): number;
}

export interface OneDriveEmulatorSeed {
  folder(path: string): Promise<string>;
  file(path: string, data: Buffer | string, opts?: { modifiedAt?: Date }): Promise<string>;
  /** Bytes stored at a path, or undefined (test assertions). */
  read(path: string): Promise<Buffer | undefined>;
  exists(path: string): boolean;
  /** Open upload sessions (tests check that failed uploads cancelled theirs). */
  openUploadSessions(): number;
}

export interface OneDriveEmulator {
  /** The control API shared by the four emulators. */
  api: EmulatorControlApi;
  /** http://127.0.0.1:P — point graphBaseUrl and authorityBaseUrl at it. */
  baseUrl: string;
  credentials: OneDriveEmulatorCredentials;
  control: OneDriveEmulatorControl;
  requestLog: RequestLogEntry[];
  seed: OneDriveEmulatorSeed;
  identity: IdentityPlatform;
  drive: Drive;
  stop(): Promise<void>;
}

/** Starts a Microsoft Graph (OneDrive) + identity platform fake on loopback. */
export async function startOneDriveEmulator(
  opts: OneDriveEmulatorOptions = {},
): Promise<OneDriveEmulator> {
  const emu = new OneDriveEmulatorServer(opts, await BlobStore.create());
  await emu.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return emu.handle();
}

const now = (): number => Date.now();

class OneDriveEmulatorServer {
  private readonly server: Server;
  private readonly identity: IdentityPlatform;
  private readonly drives = new Map<string, Drive>();
  private readonly drive: Drive;
  private readonly blobs = new Map<string, Blob>();
  private readonly sessions = new Map<string, UploadSession>();
  private readonly copies = new Map<string, CopyOperation>();
  private readonly faults: Fault[] = [];
  private readonly log: RequestLogEntry[] = [];
  private readonly signingKey = randomBytes(32);
  private downloadUrlsValidAfter = 0;
  private rejectBearer: boolean;
  private publicUrls: Partial<Record<PublicRole, string>>;
  private logSeq = 0;
  private baseUrl = '';

  constructor(
    private readonly opts: OneDriveEmulatorOptions,
    private readonly store: BlobStore,
  ) {
    this.rejectBearer = opts.rejectBearerOnPreauthUrls === true;
    this.publicUrls = { ...opts.publicUrls };
    this.identity = new IdentityPlatform(
      {
        clientId: opts.clientId ?? 'emulator-client-id',
        clientSecret: opts.clientSecret,
        redirectUris: opts.redirectUris,
      },
      opts.accessTokenTtlSec ?? 3600,
      now,
    );
    const driveId = `b!${randomBytes(12).toString('base64url')}`;
    this.drive = new Drive(
      driveId,
      opts.driveType ?? 'personal',
      opts.quotaBytes ?? 1024 ** 4,
      () => new Date(),
    );
    this.drives.set(driveId, this.drive);
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** The origin absolute URLs of a role use (publicUrls, else the real or fake https host). */
  private origin(role: PublicRole): string {
    return (this.publicUrls[role] ?? `https://${EMULATOR_HOSTS[role]}`).replace(/\/+$/, '');
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.baseUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  handle(): OneDriveEmulator {
    const h = this.bareHandle();
    return { ...h, api: oneDriveControlApi(h) };
  }

  private bareHandle(): Omit<OneDriveEmulator, 'api'> {
    const issued = this.identity.issue();
    const control: OneDriveEmulatorControl = {
      rateLimitNext: (o = {}) =>
        this.addStatusFaults(o.count ?? 1, {
          target: o.target ?? 'graph',
          status: 429,
          code: 'activityLimitReached',
          message: 'The request has been throttled',
          headers: { 'retry-after': String(o.retryAfterSec ?? 1) },
        }),
      serviceUnavailableNext: (o = {}) =>
        this.addStatusFaults(o.count ?? 1, {
          target: o.target ?? 'graph',
          status: 503,
          code: 'serviceNotAvailable',
          message: 'The service is temporarily unavailable.',
          headers: o.retryAfterSec === undefined ? {} : { 'retry-after': String(o.retryAfterSec) },
        }),
      failNext: (o = {}) =>
        this.addStatusFaults(o.count ?? 1, {
          target: o.target ?? 'graph',
          status: o.status ?? 500,
          code: o.code ?? 'generalException',
          message: 'An unspecified error has occurred.',
          headers: {},
        }),
      cutNextDownload: (afterBytes) =>
        void this.faults.push({ kind: 'cutDownload', afterBytes, keepPartial: false, skip: 0 }),
      cutNextUploadFragment: (afterBytes, o = {}) =>
        void this.faults.push({
          kind: 'cutUpload',
          afterBytes,
          keepPartial: o.keepPartial ?? false,
          skip: o.skipFragments ?? 0,
        }),
      misreportNextHash: () => void this.faults.push({ kind: 'misreportHash' }),
      expireToken: () => this.identity.expireAccessTokens(),
      revokeRefreshTokens: () => this.identity.revokeRefreshTokens(),
      expireUploadSessions: () => {
        for (const s of this.sessions.values()) s.expiresAt = 0;
      },
      expireDownloadUrls: () => {
        this.downloadUrlsValidAfter = now() + 1;
      },
      expireDeltaTokens: () => {
        for (const d of this.drives.values()) d.deltaEpoch++;
      },
      setQuota: (total) => {
        for (const d of this.drives.values()) d.quotaBytes = total;
      },
      rejectBearerOnPreauthUrls: (on) => void (this.rejectBearer = on),
      setPublicUrls: (urls) => void (this.publicUrls = { ...this.publicUrls, ...urls }),
      clearFaults: () => void this.faults.splice(0),
      pendingFaults: () => this.faults.length,
    };
    const seed: OneDriveEmulatorSeed = {
      folder: async (path) => this.seedFolder(path).id,
      file: async (path, data, o = {}) => {
        const segs = splitPath(path);
        const parent = this.seedFolder(segs.slice(0, -1).join('/'));
        const blob = this.register(
          await this.store.fromBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data)),
        );
        const { item } = this.drive.putFile(parent, segs[segs.length - 1]!, blob, o.modifiedAt);
        // Seeded content was last changed then, on the service too.
        if (o.modifiedAt) item.modifiedAt = o.modifiedAt;
        return item.id;
      },
      read: async (path) => {
        const item = this.drive.resolve(this.drive.root, splitPath(path));
        if (!item?.blob) return undefined;
        const s = this.store.read(item.blob, 0, item.blob.size);
        if (!s) return Buffer.alloc(0);
        const parts: Buffer[] = [];
        for await (const c of s) parts.push(c as Buffer);
        return Buffer.concat(parts);
      },
      exists: (path) => this.drive.resolve(this.drive.root, splitPath(path)) !== undefined,
      openUploadSessions: () =>
        [...this.sessions.values()].filter((s) => s.expiresAt > now()).length,
    };
    return {
      baseUrl: this.baseUrl,
      credentials: {
        clientId: this.identity.app.clientId,
        clientSecret: this.identity.app.clientSecret,
        refreshToken: issued.refreshToken,
        accessToken: issued.accessToken,
        accessTokenExpiresAt: issued.expiresAt,
        driveId: this.drive.id,
      },
      control,
      requestLog: this.log,
      seed,
      identity: this.identity,
      drive: this.drive,
      stop: async () => {
        this.server.closeAllConnections();
        await new Promise<void>((r) => this.server.close(() => r()));
        for (const s of this.sessions.values()) await s.writer.abort().catch(() => undefined);
        await this.store.dispose();
      },
    };
  }

  // ---------------------------------------------------------------- dispatch

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const role = roleOf(url.pathname);
    const entry: RequestLogEntry = {
      seq: ++this.logSeq,
      role,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      status: 0,
      range: header(req, 'range'),
      contentRange: header(req, 'content-range'),
      contentLength:
        req.headers['content-length'] === undefined
          ? undefined
          : Number(req.headers['content-length']),
      hasAuthorization: req.headers.authorization !== undefined,
    };
    if (role !== 'control') this.log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    try {
      const forwarded = header(req, 'x-forwarded-host');
      if (
        forwarded !== undefined &&
        role !== 'control' &&
        forwarded.split(':')[0] !== EMULATOR_HOSTS[role] &&
        forwarded !== new URL(this.origin(role)).host
      ) {
        throw new HttpError(
          421,
          'misdirectedRequest',
          `Host '${forwarded}' does not serve ${url.pathname}.`,
        );
      }
      const fault = this.takeStatusFault(role);
      if (fault) {
        entry.fault = `${fault.status} ${fault.code}`;
        req.resume();
        throw new HttpError(fault.status, fault.code, fault.message, fault.headers);
      }
      switch (role) {
        case 'graph':
          return await this.graph(req, res, url, entry);
        case 'upload':
          return await this.uploadUrl(req, res, url, entry);
        case 'download':
          return await this.download(req, res, url, entry);
        case 'monitor':
          return this.monitor(res, url);
        case 'login':
          return await this.login(req, res, url);
        case 'control':
          return await this.httpControl(req, res);
      }
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        if (role === 'login') {
          sendJson(res, e.status, { error: e.code, error_description: e.message }, e.headers);
        } else {
          sendGraphError(res, e, header(req, 'client-request-id'));
        }
        return;
      }
      sendGraphError(
        res,
        new HttpError(500, 'generalException', (e as Error).message ?? 'internal error'),
      );
    }
  }

  private addStatusFaults(count: number, f: Omit<StatusFault, 'kind'>): void {
    for (let i = 0; i < count; i++) this.faults.push({ kind: 'status', ...f });
  }

  private takeStatusFault(role: HostRole): StatusFault | undefined {
    const target: FaultTarget = role === 'login' ? 'token' : role === 'control' ? 'any' : role;
    if (role === 'control') return undefined;
    const i = this.faults.findIndex(
      (f) => f.kind === 'status' && (f.target === 'any' || f.target === target),
    );
    if (i < 0) return undefined;
    return this.faults.splice(i, 1)[0] as StatusFault;
  }

  private takeCutFault(kind: CutFault['kind']): CutFault | undefined {
    const i = this.faults.findIndex((f) => f.kind === kind);
    if (i < 0) return undefined;
    const f = this.faults[i] as CutFault;
    if (f.skip > 0) {
      f.skip--;
      return undefined;
    }
    return this.faults.splice(i, 1)[0] as CutFault;
  }

  private register(blob: Blob): Blob {
    const i = this.faults.findIndex((f) => f.kind === 'misreportHash');
    if (i >= 0) {
      this.faults.splice(i, 1);
      const wrong = Buffer.from(blob.quickXorHash, 'base64');
      wrong[0] = (wrong[0] ?? 0) ^ 0xff;
      blob = { ...blob, quickXorHash: wrong.toString('base64') };
    }
    this.blobs.set(blob.id, blob);
    return blob;
  }

  private async httpControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'methodNotAllowed', 'POST {action, args}');
    const body = await readJson(req);
    const control = this.handleControl();
    const action = String(body.action) as keyof OneDriveEmulatorControl;
    const fn = control[action] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function')
      throw new HttpError(400, 'invalidRequest', `unknown control action '${action}'`);
    const result = fn(...(Array.isArray(body.args) ? body.args : []));
    sendJson(res, 200, { ok: true, result: result ?? null });
  }

  private controlCache?: OneDriveEmulatorControl;
  private handleControl(): OneDriveEmulatorControl {
    this.controlCache ??= this.handle().control;
    return this.controlCache;
  }

  // ---------------------------------------------------------------- identity

  private async login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|authorize\/allow|authorize\/deny|token)$/.exec(
      url.pathname,
    );
    if (!m) throw new HttpError(404, 'not_found', 'Unknown identity platform endpoint.');
    assertTenant(decodeURIComponent(m[1]!));
    if (m[2] === 'token') {
      if (req.method !== 'POST')
        throw new HttpError(
          405,
          'invalid_request',
          'AADSTS900561: The endpoint only accepts POST requests.',
        );
      return this.identity.token(req, res);
    }
    if (req.method !== 'GET') throw new HttpError(405, 'invalid_request', 'GET only');
    const allow = m[2] === 'authorize' ? undefined : m[2] === 'authorize/allow';
    if (allow !== undefined) url.pathname = url.pathname.replace(/\/(allow|deny)$/, '');
    this.identity.authorize(url, res, allow);
  }

  // ---------------------------------------------------------------- graph

  private requireBearer(req: IncomingMessage): void {
    const verdict = this.identity.checkBearer(req.headers.authorization);
    if (verdict === 'ok') return;
    const message =
      verdict === 'missing'
        ? 'Access token is empty.'
        : verdict === 'expired'
          ? 'Lifetime validation failed, the token is expired.'
          : 'IDX14100: JWT is not well formed.';
    throw new HttpError(401, 'InvalidAuthenticationToken', message, {
      'www-authenticate': `Bearer realm="", authorization_uri="https://${EMULATOR_HOSTS.login}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
    });
  }

  private async graph(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: RequestLogEntry,
  ): Promise<void> {
    this.requireBearer(req);
    const method = req.method ?? 'GET';
    // Raw (still percent-encoded) path after /v1.0; segments are decoded one by one below.
    const raw = (req.url ?? '/').split('?')[0]!.slice('/v1.0'.length);
    if (raw === '/me' && method === 'GET') {
      return sendJson(res, 200, {
        id: 'emulator-user',
        displayName: 'Emulator User',
        userPrincipalName: 'user@emulator.test',
      });
    }
    let drive: Drive;
    let rest: string;
    let m: RegExpExecArray | null;
    if ((m = /^\/me\/drive(\/.*)?$/.exec(raw))) {
      drive = this.drive;
      rest = m[1] ?? '';
    } else if ((m = /^\/drives\/([^/]+)(\/.*)?$/.exec(raw))) {
      const d = this.drives.get(decodeSegment(m[1]!));
      if (!d) throw new HttpError(404, 'itemNotFound', 'The drive could not be found.');
      drive = d;
      rest = m[2] ?? '';
    } else if (raw === '/me/drives' && method === 'GET') {
      return sendJson(res, 200, { value: [...this.drives.values()].map((d) => this.driveJson(d)) });
    } else {
      throw new HttpError(
        400,
        'invalidRequest',
        `Resource not found for the segment '${raw.split('/')[1] ?? ''}'.`,
      );
    }
    if (rest === '') {
      if (method !== 'GET')
        throw new HttpError(405, 'invalidRequest', 'Method not allowed on a drive.');
      return sendJson(
        res,
        200,
        this.select(this.driveJson(drive), checkQueryOptions(url.searchParams, 'drive')),
      );
    }
    const addr = parseItemAddress(rest);
    let q = url.searchParams;
    if (method === 'GET') {
      const context =
        addr.action === 'delta'
          ? 'delta'
          : addr.action === 'search'
            ? 'search'
            : addr.action === 'children'
              ? 'collection'
              : addr.action === ''
                ? 'item'
                : undefined;
      if (context) q = checkQueryOptions(q, context);
    }

    if (addr.action === 'delta') {
      if (method !== 'GET') throw new HttpError(405, 'invalidRequest', 'delta is GET only.');
      if (addr.base !== 'root' || addr.segments.length > 0) {
        throw new HttpError(
          400,
          'invalidRequest',
          'delta is only supported on the root of the drive.',
        );
      }
      return this.delta(res, drive, q);
    }

    const base = addr.base === 'root' ? drive.root : drive.get(addr.id!);
    if (!base) throw new HttpError(404, 'itemNotFound', 'The resource could not be found.');

    // Creating by path: PUT :/name:/content and POST :/name:/createUploadSession address a new item.
    const creates =
      (method === 'PUT' && addr.action === 'content') ||
      (method === 'POST' && addr.action === 'createUploadSession');
    if (creates && addr.segments.length > 0) {
      const parent = drive.resolve(base, addr.segments.slice(0, -1));
      if (!parent)
        throw new HttpError(
          404,
          'itemNotFound',
          'The parent folder of the item could not be found.',
        );
      if (parent.kind !== 'folder')
        throw new HttpError(400, 'invalidRequest', 'The parent of the item is not a folder.');
      const name = addr.segments[addr.segments.length - 1]!;
      if (addr.action === 'content')
        return this.simpleUpload(req, res, drive, parent, name, q, entry);
      return this.createSession(req, res, drive, parent, name, undefined);
    }

    const item = drive.resolve(base, addr.segments);
    if (!item) throw new HttpError(404, 'itemNotFound', 'The resource could not be found.');

    switch (`${method} ${addr.action}`) {
      case 'GET ':
        return sendJson(res, 200, this.expand(drive, item, q));
      case 'PATCH ':
        return this.patch(req, res, drive, item);
      case 'DELETE ':
        return this.deleteItem(req, res, drive, item);
      case 'GET children':
        return this.children(res, drive, item, q, raw);
      case 'GET search':
        return this.search(res, drive, item, addr.search ?? '', q, raw);
      case 'POST children':
        return this.createFolder(req, res, drive, item, q);
      case 'GET content':
        return this.contentRedirect(res, drive, item);
      case 'PUT content': {
        if (item.kind !== 'file')
          throw new HttpError(400, 'invalidRequest', 'Cannot upload content to a folder.');
        const parent = drive.get(item.parentId!)!;
        return this.simpleUpload(req, res, drive, parent, item.name, q, entry, 'replace');
      }
      case 'POST createUploadSession': {
        if (item.kind !== 'file')
          throw new HttpError(400, 'invalidRequest', 'Cannot upload content to a folder.');
        return this.createSession(req, res, drive, drive.get(item.parentId!)!, item.name, item);
      }
      case 'POST copy':
        return this.copy(req, res, drive, item, q);
      default:
        throw new HttpError(
          400,
          'invalidRequest',
          `Unsupported request: ${method} ${addr.action || 'item'}.`,
        );
    }
  }

  private driveJson(d: Drive) {
    const remaining = Math.max(0, d.quotaBytes - d.usedBytes);
    return {
      id: d.id,
      driveType: d.driveType,
      name: 'OneDrive',
      owner: { user: { id: 'emulator-user', displayName: 'Emulator User' } },
      quota: {
        total: d.quotaBytes,
        used: d.usedBytes,
        remaining,
        deleted: 0,
        state:
          remaining === 0 ? 'exceeded' : remaining < d.quotaBytes * 0.01 ? 'critical' : 'normal',
      },
    };
  }

  itemJson(drive: Drive, item: Item, forDelta: boolean): Record<string, unknown> {
    const iso = (d: Date) => d.toISOString();
    const out: Record<string, unknown> = {
      id: item.id,
      name: item.name,
      eTag: `"{${item.id}},${item.version}"`,
      cTag: `"c:{${item.id}},${item.contentVersion}"`,
      createdDateTime: iso(item.createdAt),
      lastModifiedDateTime: iso(item.modifiedAt),
      size: item.kind === 'file' ? (item.blob?.size ?? 0) : this.folderSize(drive, item),
      fileSystemInfo: {
        createdDateTime: iso(item.fsCreatedAt),
        lastModifiedDateTime: iso(item.fsModifiedAt),
      },
    };
    if (item.parentId === undefined) {
      out.root = {};
      out.parentReference = { driveId: drive.id, driveType: drive.driveType };
    } else {
      const parent = drive.get(item.parentId)!;
      const parentPath = drive.pathOf(parent);
      out.parentReference = {
        driveId: drive.id,
        driveType: drive.driveType,
        id: item.parentId,
        // delta does not return parentReference.path (protocols/onedrive.md section 5).
        ...(forDelta ? {} : { path: `/drive/root:${parentPath === '' ? '' : '/' + parentPath}` }),
      };
    }
    if (item.kind === 'folder') {
      out.folder = { childCount: item.children?.size ?? 0 };
    } else {
      const blob = item.blob!;
      out.file = {
        mimeType: mimeTypeOf(item.name),
        hashes: { quickXorHash: blob.quickXorHash, sha256Hash: blob.sha256Hash },
      };
      if (!forDelta) out['@microsoft.graph.downloadUrl'] = this.downloadUrl(drive, item);
    }
    return out;
  }

  private folderSize(drive: Drive, folder: Item): number {
    let total = 0;
    for (const c of drive.childrenOf(folder))
      total += c.kind === 'file' ? (c.blob?.size ?? 0) : this.folderSize(drive, c);
    return total;
  }

  /**
   * `$select`: top-level properties only, `id` always kept; instance annotations such as
   * `@microsoft.graph.downloadUrl` only when named, as Graph does.
   */
  private select(obj: Record<string, unknown>, q: URLSearchParams): Record<string, unknown> {
    const sel = q.get('$select');
    if (!sel) return obj;
    const keep = new Set(sel.split(',').map((s) => s.trim()));
    keep.add('id');
    return Object.fromEntries(Object.entries(obj).filter(([k]) => keep.has(k)));
  }

  /**
   * `$expand=children` (optionally `children($select=a,b)`) on an item: the first 200 children
   * inline, as Graph does. Other navigation properties are refused with Graph's OData message.
   */
  private expand(drive: Drive, item: Item, q: URLSearchParams): Record<string, unknown> {
    return this.expandJson(drive, item, this.itemJson(drive, item, false), q);
  }

  private expandJson(
    drive: Drive,
    item: Item,
    json: Record<string, unknown>,
    q: URLSearchParams,
  ): Record<string, unknown> {
    const out = this.select(json, q);
    const exp = q.get('$expand');
    if (!exp) return out;
    for (const part of exp.split(/,(?![^(]*\))/).map((p) => p.trim())) {
      const m = /^([A-Za-z]+)(?:\(\$?select=([^)]*)\))?$/.exec(part);
      if (!m || m[1] !== 'children') {
        throw new HttpError(
          400,
          'invalidRequest',
          `Parsing OData Select and Expand failed: Could not find a property named '${m?.[1] ?? part}' on type 'microsoft.graph.driveItem'.`,
        );
      }
      if (item.kind !== 'folder') continue;
      const inner = new URLSearchParams(m[2] ? { $select: m[2] } : {});
      out.children = drive
        .childrenOf(item)
        .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))
        .slice(0, 200)
        .map((c) => this.select(this.itemJson(drive, c, false), inner));
    }
    return out;
  }

  private pageSize(q: URLSearchParams): number {
    const top = q.get('$top');
    if (top === null) return 200;
    const n = Number(top);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new HttpError(400, 'invalidRequest', `Invalid $top value '${top}'.`);
    return n;
  }

  private children(
    res: ServerResponse,
    drive: Drive,
    folder: Item,
    q: URLSearchParams,
    rawPath: string,
  ): void {
    if (folder.kind !== 'folder') {
      // A file has no children: Graph answers an empty collection.
      return sendJson(res, 200, { value: [] });
    }
    this.sendCollection(res, drive, drive.childrenOf(folder), q, rawPath);
  }

  /**
   * `search(q='...')` on a folder (the root: the whole drive): the items below it whose name holds
   * the words of the query, without case. The real service also matches metadata and content and
   * ranks by relevance; here the order is by name unless `$orderby` says otherwise.
   */
  private search(
    res: ServerResponse,
    drive: Drive,
    base: Item,
    text: string,
    q: URLSearchParams,
    rawPath: string,
  ): void {
    const words = text
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w !== '');
    const found: Item[] = [];
    const walk = (folder: Item) => {
      for (const c of drive.childrenOf(folder)) {
        const name = c.name.toLowerCase();
        if (words.every((w) => name.includes(w))) found.push(c);
        if (c.kind === 'folder') walk(c);
      }
    };
    if (base.kind === 'folder') walk(base);
    this.sendCollection(res, drive, found, q, rawPath);
  }

  /** One page of a driveItem collection: `$filter`, `$orderby`, keyset `$skiptoken`, `$top`. */
  private sendCollection(
    res: ServerResponse,
    drive: Drive,
    items: Item[],
    q: URLSearchParams,
    rawPath: string,
  ): void {
    const top = this.pageSize(q);
    const keys = parseOrderBy(q.get('$orderby'), drive.driveType);
    const filterText = q.get('$filter');
    const keep = filterText === null ? undefined : parseFilter(filterText, drive.driveType);
    let rows = items.map((i) => ({ item: i, json: this.itemJson(drive, i, false) }));
    if (keep) rows = rows.filter((r) => keep(r.json));
    const keyed = rows
      .map((r) => ({ ...r, key: sortKeyOf(r.json, keys) }))
      .sort((a, b) => compareKeys(a.key, b.key, keys));
    const skip = q.get('$skiptoken');
    let start = 0;
    if (skip !== null) {
      const after = fromBase64url<{ k: (string | number)[] }>(skip)?.k;
      if (!Array.isArray(after) || after.length !== keys.length + 2)
        throw new HttpError(400, 'invalidRequest', 'Invalid $skiptoken.');
      // Keyset paging: items created while paging do not shift later pages.
      start = keyed.findIndex((r) => compareKeys(r.key, after, keys) > 0);
      if (start < 0) start = keyed.length;
    }
    const page = keyed.slice(start, start + top);
    const body: Record<string, unknown> = {
      value: page.map((r) => this.expandJson(drive, r.item, r.json, q)),
    };
    if (start + top < keyed.length) {
      const next = new URLSearchParams();
      for (const [k, v] of q) if (k !== '$skiptoken') next.set(k, v);
      next.set('$skiptoken', base64url({ k: page[page.length - 1]!.key }));
      body['@odata.nextLink'] = `${this.origin('graph')}/v1.0${rawPath}?${next.toString()}`;
    }
    sendJson(res, 200, body);
  }

  private conflictBehaviorOf(value: unknown, fallback: ConflictBehavior): ConflictBehavior {
    if (value === undefined || value === null) return fallback;
    if (value === 'fail' || value === 'replace' || value === 'rename') return value;
    throw new HttpError(400, 'invalidRequest', `Invalid conflictBehavior '${String(value)}'.`);
  }

  private assertName(name: string): void {
    const why = invalidNameReason(name);
    if (why) throw new HttpError(400, 'invalidRequest', `The provided name is not valid: ${why}.`);
  }

  private async createFolder(
    req: IncomingMessage,
    res: ServerResponse,
    drive: Drive,
    parent: Item,
    q: URLSearchParams,
  ): Promise<void> {
    if (parent.kind !== 'folder')
      throw new HttpError(400, 'invalidRequest', 'The parent item is not a folder.');
    const body = await readJson(req);
    if (typeof body.name !== 'string')
      throw new HttpError(400, 'invalidRequest', "Property 'name' is required.");
    if (typeof body.folder !== 'object' || body.folder === null) {
      throw new HttpError(
        400,
        'invalidRequest',
        'Only folders can be created this way: a folder facet is required.',
      );
    }
    this.assertName(body.name);
    const behavior = this.conflictBehaviorOf(
      body['@microsoft.graph.conflictBehavior'] ?? q.get('@microsoft.graph.conflictBehavior'),
      'fail',
    );
    let name = body.name;
    const existing = drive.child(parent, name);
    if (existing) {
      if (behavior === 'fail')
        throw new HttpError(
          409,
          'nameAlreadyExists',
          'An item with the same name already exists under the parent.',
        );
      if (behavior === 'rename') name = drive.freeName(parent, name);
      else drive.remove(existing);
    }
    this.assertQuota(drive, 0);
    const item = drive.createFolder(parent, name);
    sendJson(res, 201, this.itemJson(drive, item, false));
  }

  private assertQuota(drive: Drive, extraBytes: number): void {
    if (
      drive.usedBytes + extraBytes > drive.quotaBytes ||
      (extraBytes === 0 && drive.usedBytes >= drive.quotaBytes)
    ) {
      throw new HttpError(
        507,
        'quotaLimitReached',
        'Insufficient Space Available: the drive has reached its storage quota.',
      );
    }
  }

  private async simpleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    drive: Drive,
    parent: Item,
    name: string,
    q: URLSearchParams,
    entry: RequestLogEntry,
    defaultBehavior: ConflictBehavior = 'replace',
  ): Promise<void> {
    this.assertName(name);
    const behavior = this.conflictBehaviorOf(
      q.get('@microsoft.graph.conflictBehavior') ?? undefined,
      defaultBehavior,
    );
    const declared =
      req.headers['content-length'] === undefined
        ? undefined
        : Number(req.headers['content-length']);
    if (declared !== undefined && declared > MAX_SIMPLE_UPLOAD_BYTES) {
      throw new HttpError(
        413,
        'requestEntityTooLarge',
        'The content is too large for a simple upload: use an upload session.',
      );
    }
    const existing = drive.child(parent, name);
    this.checkUploadConflict(existing, behavior);
    this.assertQuota(drive, (declared ?? 0) - (existing?.blob?.size ?? 0));
    const writer = await this.store.writer();
    try {
      for await (const chunk of req) {
        await writer.append(chunk as Buffer);
        if (writer.size > MAX_SIMPLE_UPLOAD_BYTES) {
          throw new HttpError(
            413,
            'requestEntityTooLarge',
            'The content is too large for a simple upload.',
          );
        }
      }
      if (declared !== undefined && writer.size !== declared) {
        throw new HttpError(
          400,
          'invalidRequest',
          'The request body is shorter than Content-Length.',
        );
      }
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const blob = this.register(await writer.finish());
    entry.committedBytes = blob.size;
    const { item, created } = this.commitFile(drive, parent, name, blob, behavior, undefined);
    sendJson(res, created ? 201 : 200, this.itemJson(drive, item, false));
  }

  private checkUploadConflict(existing: Item | undefined, behavior: ConflictBehavior): void {
    if (!existing) return;
    if (existing.kind === 'folder' && behavior !== 'rename') {
      throw new HttpError(
        409,
        'nameAlreadyExists',
        'A folder with the same name already exists under the parent.',
      );
    }
    if (behavior === 'fail')
      throw new HttpError(
        409,
        'nameAlreadyExists',
        'An item with the same name already exists under the parent.',
      );
  }

  private commitFile(
    drive: Drive,
    parent: Item,
    name: string,
    blob: Blob,
    behavior: ConflictBehavior,
    fsModifiedAt: Date | undefined,
  ) {
    if (!drive.get(parent.id))
      throw new HttpError(404, 'itemNotFound', 'The parent folder was deleted during the upload.');
    const existing = drive.child(parent, name);
    this.checkUploadConflict(existing, behavior);
    this.assertQuota(drive, blob.size - (existing?.blob?.size ?? 0));
    const finalName = existing && behavior === 'rename' ? drive.freeName(parent, name) : name;
    return drive.putFile(parent, finalName, blob, fsModifiedAt);
  }

  // ---------------------------------------------------------------- upload sessions

  private async createSession(
    req: IncomingMessage,
    res: ServerResponse,
    drive: Drive,
    parent: Item,
    name: string,
    replacing: Item | undefined,
  ): Promise<void> {
    this.assertName(name);
    const body = await readJson(req);
    const item = (body.item ?? {}) as Record<string, unknown>;
    if (typeof item !== 'object')
      throw new HttpError(400, 'invalidRequest', "Property 'item' must be an object.");
    if (body.deferCommit === true)
      throw new HttpError(400, 'invalidRequest', 'deferCommit is not supported by this emulator.');
    if (item.name !== undefined && item.name !== name) {
      throw new HttpError(
        400,
        'invalidRequest',
        'The item name in the body does not match the name in the URL.',
      );
    }
    const behavior = this.conflictBehaviorOf(item['@microsoft.graph.conflictBehavior'], 'replace');
    const existing = drive.child(parent, name);
    this.checkUploadConflict(existing, behavior);
    const ifMatch = header(req, 'if-match');
    if (
      ifMatch !== undefined &&
      replacing &&
      ifMatch !== this.itemJson(drive, replacing, true).eTag
    ) {
      throw new HttpError(412, 'preconditionFailed', 'The eTag does not match.');
    }
    if (this.opts.oneSessionPerPath) {
      for (const s of this.sessions.values()) {
        if (
          s.expiresAt > now() &&
          s.drive === drive &&
          s.parentId === parent.id &&
          s.name.toLowerCase() === name.toLowerCase()
        ) {
          throw new HttpError(
            409,
            'nameAlreadyExists',
            'An upload session already exists for this item.',
          );
        }
      }
    }
    this.assertQuota(drive, 0);
    const fsInfo = item.fileSystemInfo as { lastModifiedDateTime?: string } | undefined;
    let fsModifiedAt: Date | undefined;
    if (fsInfo?.lastModifiedDateTime !== undefined) {
      fsModifiedAt = new Date(fsInfo.lastModifiedDateTime);
      if (Number.isNaN(fsModifiedAt.getTime()))
        throw new HttpError(400, 'invalidRequest', 'Invalid lastModifiedDateTime.');
    }
    const session: UploadSession = {
      id: randomBytes(18).toString('base64url'),
      drive,
      parentId: parent.id,
      name,
      itemId: replacing?.id,
      conflictBehavior: behavior,
      fsModifiedAt,
      writer: await this.store.writer(),
      committed: 0,
      expiresAt: now() + (this.opts.uploadSessionTtlMs ?? 30 * 60_000),
    };
    this.sessions.set(session.id, session);
    sendJson(res, 200, {
      uploadUrl: `${this.origin('upload')}/up/${session.id}?cid=${drive.id.slice(2, 10)}`,
      expirationDateTime: new Date(session.expiresAt).toISOString(),
      nextExpectedRanges: ['0-'],
    });
  }

  private sessionStatus(s: UploadSession) {
    return {
      expirationDateTime: new Date(s.expiresAt).toISOString(),
      nextExpectedRanges: [`${s.committed}-${s.total === undefined ? '' : s.total - 1}`],
    };
  }

  private async uploadUrl(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: RequestLogEntry,
  ): Promise<void> {
    if (this.rejectBearer && req.headers.authorization !== undefined) {
      req.resume();
      throw new HttpError(
        401,
        'unauthenticated',
        'An Authorization header must not be sent to a pre-authenticated upload URL.',
      );
    }
    const m = /^\/up\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    const s = m ? this.sessions.get(m[1]!) : undefined;
    if (!s || s.expiresAt <= now()) {
      req.resume();
      if (s) {
        this.sessions.delete(s.id);
        await s.writer.abort();
      }
      throw new HttpError(404, 'itemNotFound', 'The upload session was not found or has expired.');
    }
    switch (req.method) {
      case 'GET':
        return sendJson(res, 200, this.sessionStatus(s));
      case 'DELETE':
        this.sessions.delete(s.id);
        await s.writer.abort();
        res.writeHead(204).end();
        return;
      case 'PUT':
        return this.putFragment(req, res, s, entry);
      default:
        req.resume();
        throw new HttpError(405, 'invalidRequest', 'Upload URLs take PUT, GET and DELETE.');
    }
  }

  private async putFragment(
    req: IncomingMessage,
    res: ServerResponse,
    s: UploadSession,
    entry: RequestLogEntry,
  ): Promise<void> {
    const reject = (e: HttpError): never => {
      req.resume();
      throw e;
    };
    const cr = header(req, 'content-range');
    if (cr === undefined)
      reject(new HttpError(400, 'invalidRequest', 'The Content-Range header is required.'));
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr!.trim());
    if (!m) reject(new HttpError(400, 'invalidRequest', `Invalid Content-Range header '${cr}'.`));
    if (m![3] === '*')
      reject(
        new HttpError(
          400,
          'invalidRequest',
          'The total size in Content-Range must be known (bytes a-b/total).',
        ),
      );
    const start = Number(m![1]);
    const end = Number(m![2]);
    const total = Number(m![3]);
    const length = end - start + 1;
    const declared =
      req.headers['content-length'] === undefined
        ? undefined
        : Number(req.headers['content-length']);
    if (end < start || end >= total)
      reject(new HttpError(400, 'invalidRequest', `Invalid Content-Range '${cr}'.`));
    if (declared !== length)
      reject(
        new HttpError(400, 'invalidRequest', 'Content-Length does not match the Content-Range.'),
      );
    if (s.total !== undefined && s.total !== total) {
      reject(
        new HttpError(
          400,
          'invalidRequest',
          `The declared total ${total} differs from the session's ${s.total}.`,
        ),
      );
    }
    if (start < s.committed) {
      reject(
        new HttpError(
          416,
          'invalidRange',
          'The fragment overlaps bytes already received.',
          {},
          'fragmentOverlap',
        ),
      );
    }
    if (start > s.committed) {
      reject(
        new HttpError(
          416,
          'invalidRange',
          `The fragment starts at ${start}; the next expected byte is ${s.committed}.`,
        ),
      );
    }
    if (length > MAX_FRAGMENT_BYTES)
      reject(new HttpError(400, 'invalidRequest', 'Fragments must be smaller than 60 MiB.'));
    const isLast = end === total - 1;
    if (!isLast && length % FRAGMENT_ALIGNMENT !== 0) {
      reject(
        new HttpError(
          400,
          'invalidRequest',
          'Non-final fragments must be a multiple of 320 KiB (327,680 bytes).',
        ),
      );
    }
    const replaced =
      s.drive.child(s.drive.get(s.parentId) ?? s.drive.root, s.name)?.blob?.size ?? 0;
    if (s.drive.usedBytes - replaced + total > s.drive.quotaBytes) {
      reject(
        new HttpError(
          507,
          'quotaLimitReached',
          'Insufficient Space Available: the file does not fit in the remaining quota.',
        ),
      );
    }
    s.total = total;

    const cut = this.takeCutFault('cutUpload');
    const socket = req.socket;
    const chunks: Buffer[] = [];
    let received = 0;
    let cutDone = false;
    try {
      for await (const c of req) {
        const chunk = c as Buffer;
        if (cut && received + chunk.length >= cut.afterBytes) {
          chunks.push(chunk.subarray(0, cut.afterBytes - received));
          received = cut.afterBytes;
          cutDone = true;
          break;
        }
        chunks.push(chunk);
        received += chunk.length;
        if (received > length) break;
      }
    } catch {
      // The client went away mid-fragment: the server keeps nothing of it.
      return;
    }
    if (cutDone) {
      entry.fault = `cut fragment after ${received} bytes${cut!.keepPartial ? ' (kept)' : ''}`;
      if (cut!.keepPartial && received > 0) {
        for (const c of chunks) await s.writer.append(c);
        s.committed += received;
        entry.committedBytes = received;
      }
      socket.destroy();
      return;
    }
    if (received !== length) {
      throw new HttpError(
        400,
        'invalidRequest',
        `Received ${received} bytes; the Content-Range announced ${length}.`,
      );
    }
    for (const c of chunks) await s.writer.append(c);
    s.committed += length;
    entry.committedBytes = length;
    s.expiresAt = now() + (this.opts.uploadSessionTtlMs ?? 30 * 60_000);
    if (s.committed < total) {
      return sendJson(res, 202, this.sessionStatus(s));
    }
    this.sessions.delete(s.id);
    const blob = this.register(await s.writer.finish());
    const parent = s.drive.get(s.parentId);
    if (!parent)
      throw new HttpError(404, 'itemNotFound', 'The parent folder was deleted during the upload.');
    const { item, created } = this.commitFile(
      s.drive,
      parent,
      s.name,
      blob,
      s.conflictBehavior,
      s.fsModifiedAt,
    );
    sendJson(res, created ? 201 : 200, this.itemJson(s.drive, item, false));
  }

  // ---------------------------------------------------------------- download

  private downloadUrl(drive: Drive, item: Item): string {
    const blob = item.blob!;
    const iat = now();
    const payload = `${drive.id}.${item.id}.${blob.id}.${iat}`;
    const sig = createHmac('sha256', this.signingKey)
      .update(payload)
      .digest('base64url')
      .slice(0, 22);
    return `${this.origin('download')}/dl/${blob.id}?iat=${iat}&tempauth=${sig}&d=${encodeURIComponent(drive.id)}&i=${encodeURIComponent(item.id)}`;
  }

  private contentRedirect(res: ServerResponse, drive: Drive, item: Item): void {
    if (item.kind !== 'file')
      throw new HttpError(400, 'notSupported', 'Cannot download the content of a folder.');
    res.writeHead(302, { location: this.downloadUrl(drive, item), 'content-length': 0 }).end();
  }

  private async download(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: RequestLogEntry,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, 'invalidRequest', 'GET only.');
    if (this.rejectBearer && req.headers.authorization !== undefined) {
      throw new HttpError(
        401,
        'unauthenticated',
        'An Authorization header must not be sent to a pre-authenticated download URL.',
      );
    }
    const m = /^\/dl\/([0-9a-f]+)$/.exec(url.pathname);
    const iat = Number(url.searchParams.get('iat'));
    const d = url.searchParams.get('d') ?? '';
    const i = url.searchParams.get('i') ?? '';
    const blob = m ? this.blobs.get(m[1]!) : undefined;
    const sig = createHmac('sha256', this.signingKey)
      .update(`${d}.${i}.${m?.[1]}.${iat}`)
      .digest('base64url')
      .slice(0, 22);
    if (!blob || url.searchParams.get('tempauth') !== sig)
      throw new HttpError(401, 'unauthenticated', 'Invalid download token.');
    if (
      iat < this.downloadUrlsValidAfter ||
      now() - iat > (this.opts.downloadUrlTtlMs ?? 3600_000)
    ) {
      throw new HttpError(401, 'unauthenticated', 'The download URL has expired.');
    }
    let start = 0;
    let end = blob.size;
    let status = 200;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: `"${blob.id}"`,
    };
    const range = header(req, 'range');
    if (range !== undefined) {
      const r = parseRangeHeader(range, blob.size);
      if (r === 'unsatisfiable') {
        res.writeHead(416, { 'content-range': `bytes */${blob.size}` }).end();
        return;
      }
      if (r) {
        [start, end] = r;
        status = 206;
        headers['content-range'] = `bytes ${start}-${end - 1}/${blob.size}`;
      }
    }
    headers['content-length'] = end - start;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || end === start) {
      res.end();
      return;
    }
    const cut = this.takeCutFault('cutDownload');
    const source = this.store.read(blob, start, end)!;
    if (!cut) {
      await pipeline(source, res).catch(() => undefined);
      return;
    }
    entry.fault = `cut download after ${cut.afterBytes} bytes`;
    const socket = req.socket;
    res.flushHeaders();
    let sent = 0;
    try {
      for await (const c of source) {
        const take = (c as Buffer).subarray(0, cut.afterBytes - sent);
        if (take.length > 0) await new Promise<void>((r) => res.write(take, () => r()));
        sent += take.length;
        if (sent >= cut.afterBytes) break;
      }
    } finally {
      source.destroy();
      socket.destroy();
    }
  }

  // ---------------------------------------------------------------- change feed

  private delta(res: ServerResponse, drive: Drive, q: URLSearchParams): void {
    const top = this.pageSize(q);
    // Links carry the caller's $select/$top along, as Graph's do.
    const link = (t: unknown) => {
      const next = new URLSearchParams();
      for (const [k, v] of q) if (k !== 'token') next.set(k, v);
      next.set('token', base64url(t));
      return `${this.origin('graph')}/v1.0/drives/${encodeURIComponent(drive.id)}/root/delta?${next.toString()}`;
    };
    const tokenParam = q.get('token');
    if (tokenParam === 'latest') {
      return sendJson(res, 200, {
        value: [],
        '@odata.deltaLink': link({ e: drive.deltaEpoch, s: drive.seq }),
      });
    }
    let since = 0;
    let upto = drive.seq;
    let after = 0;
    if (tokenParam !== null) {
      const t = fromBase64url<{ e: number; s: number; u?: number; a?: number }>(tokenParam);
      if (!t || typeof t.s !== 'number' || typeof t.e !== 'number')
        throw new HttpError(400, 'invalidRequest', 'Invalid delta token.');
      if (t.e !== drive.deltaEpoch) {
        throw new HttpError(
          410,
          'resyncRequired',
          "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd.",
          {
            location: `${this.origin('graph')}/v1.0/drives/${encodeURIComponent(drive.id)}/root/delta`,
          },
          'resyncChangesApplyDifferences',
        );
      }
      since = t.s;
      upto = t.u ?? drive.seq;
      after = t.a ?? since;
    }
    type Row = { seq: number; json: Record<string, unknown> };
    const rows: Row[] = [];
    for (const item of drive.items.values()) {
      if (item.seq > after && item.seq <= upto)
        rows.push({ seq: item.seq, json: this.itemJson(drive, item, true) });
    }
    if (since > 0) {
      for (const t of drive.tombstones.values()) {
        if (t.seq > after && t.seq <= upto) {
          rows.push({
            seq: t.seq,
            json: {
              id: t.id,
              name: t.name,
              parentReference: { driveId: drive.id, driveType: drive.driveType, id: t.parentId },
              deleted: { state: 'deleted' },
              ...(t.kind === 'folder' ? { folder: { childCount: 0 } } : { file: {} }),
            },
          });
        }
      }
    }
    rows.sort((a, b) => a.seq - b.seq);
    const page = rows.slice(0, top);
    const body: Record<string, unknown> = { value: page.map((r) => this.select(r.json, q)) };
    if (rows.length > top) {
      body['@odata.nextLink'] = link({
        e: drive.deltaEpoch,
        s: since,
        u: upto,
        a: page[page.length - 1]!.seq,
      });
    } else {
      body['@odata.deltaLink'] = link({ e: drive.deltaEpoch, s: upto });
    }
    sendJson(res, 200, body);
  }

  // ---------------------------------------------------------------- delete, patch, copy

  private deleteItem(req: IncomingMessage, res: ServerResponse, drive: Drive, item: Item): void {
    if (item.parentId === undefined)
      throw new HttpError(403, 'accessDenied', 'The root of the drive cannot be deleted.');
    const ifMatch = header(req, 'if-match');
    if (
      ifMatch !== undefined &&
      ifMatch !== '*' &&
      ifMatch !== this.itemJson(drive, item, true).eTag
    ) {
      throw new HttpError(412, 'preconditionFailed', 'The eTag does not match.');
    }
    drive.remove(item);
    res.writeHead(204).end();
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    drive: Drive,
    item: Item,
  ): Promise<void> {
    const body = await readJson(req);
    if (item.parentId === undefined)
      throw new HttpError(403, 'accessDenied', 'The root cannot be renamed or moved.');
    const parentRef = body.parentReference as { id?: string } | undefined;
    const newParent = parentRef?.id ? drive.get(parentRef.id) : drive.get(item.parentId);
    if (!newParent || newParent.kind !== 'folder')
      throw new HttpError(400, 'invalidRequest', 'Invalid parentReference.');
    const newName = typeof body.name === 'string' ? body.name : item.name;
    this.assertName(newName);
    const clash = drive.child(newParent, newName);
    if (clash && clash !== item)
      throw new HttpError(
        409,
        'nameAlreadyExists',
        'An item with the same name already exists under the parent.',
      );
    if (newParent.id !== item.parentId || newName !== item.name)
      drive.rename(item, newParent, newName);
    const fsInfo = body.fileSystemInfo as { lastModifiedDateTime?: string } | undefined;
    if (fsInfo?.lastModifiedDateTime) {
      item.fsModifiedAt = new Date(fsInfo.lastModifiedDateTime);
      drive.touch(item, false);
    }
    sendJson(res, 200, this.itemJson(drive, item, false));
  }

  private async copy(
    req: IncomingMessage,
    res: ServerResponse,
    drive: Drive,
    source: Item,
    q: URLSearchParams,
  ): Promise<void> {
    const body = await readJson(req);
    const ref = body.parentReference as { driveId?: string; id?: string } | undefined;
    if (!ref || (ref.id === undefined && ref.driveId === undefined)) {
      throw new HttpError(400, 'invalidRequest', "Property 'parentReference' is required.");
    }
    const targetDrive = ref.driveId === undefined ? drive : this.drives.get(ref.driveId);
    if (!targetDrive) throw new HttpError(400, 'invalidRequest', 'Unknown target drive.');
    const parent = ref.id === undefined ? targetDrive.root : targetDrive.get(ref.id);
    if (!parent || parent.kind !== 'folder')
      throw new HttpError(400, 'invalidRequest', 'The target parent is not a folder.');
    const name = typeof body.name === 'string' ? body.name : source.name;
    this.assertName(name);
    const behavior = this.conflictBehaviorOf(
      q.get('@microsoft.graph.conflictBehavior') ?? undefined,
      'fail',
    );
    const op: CopyOperation = { id: randomUUID(), polls: 0, status: 'inProgress' };
    this.copies.set(op.id, op);
    // The service copies in the background; the monitor reports progress.
    setImmediate(() => {
      try {
        const existing = targetDrive.child(parent, name);
        if (existing && behavior === 'fail') {
          op.status = 'failed';
          op.error = {
            code: 'nameAlreadyExists',
            message: 'An item with the same name already exists under the parent.',
          };
          return;
        }
        let finalName = name;
        if (existing && behavior === 'rename') finalName = targetDrive.freeName(parent, name);
        else if (existing) targetDrive.remove(existing);
        op.resourceId = this.copyTree(drive, source, targetDrive, parent, finalName).id;
        op.status = 'completed';
      } catch (e) {
        op.status = 'failed';
        op.error = { code: 'generalException', message: (e as Error).message };
      }
    });
    res
      .writeHead(202, {
        location: `${this.origin('monitor')}/monitor/${op.id}`,
        'content-length': 0,
      })
      .end();
  }

  private copyTree(fromDrive: Drive, src: Item, toDrive: Drive, parent: Item, name: string): Item {
    if (src.kind === 'file') {
      if (toDrive.usedBytes + src.blob!.size > toDrive.quotaBytes)
        throw new Error('quotaLimitReached');
      return toDrive.putFile(parent, name, src.blob!, src.fsModifiedAt).item;
    }
    const folder = toDrive.createFolder(parent, name);
    for (const c of fromDrive.childrenOf(src)) this.copyTree(fromDrive, c, toDrive, folder, c.name);
    return folder;
  }

  private monitor(res: ServerResponse, url: URL): void {
    const m = /^\/monitor\/([0-9a-f-]+)$/.exec(url.pathname);
    const op = m ? this.copies.get(m[1]!) : undefined;
    if (!op) throw new HttpError(404, 'itemNotFound', 'The operation could not be found.');
    op.polls++;
    if (op.status === 'inProgress' || op.polls <= (this.opts.copyPollsBeforeDone ?? 1)) {
      return sendJson(res, 202, {
        operation: 'ItemCopy',
        status: 'inProgress',
        percentageComplete: 50,
      });
    }
    if (op.status === 'failed') {
      return sendJson(res, 200, { operation: 'ItemCopy', status: 'failed', error: op.error });
    }
    sendJson(res, 200, {
      operation: 'ItemCopy',
      status: 'completed',
      percentageComplete: 100,
      resourceId: op.resourceId,
    });
  }

  // ---------------------------------------------------------------- seeding

  private seedFolder(path: string): Item {
    let cur = this.drive.root;
    for (const seg of splitPath(path)) {
      cur = this.drive.child(cur, seg) ?? this.drive.createFolder(cur, seg);
    }
    return cur;
  }
}

// ------------------------------------------------------------------ helpers

function roleOf(pathname: string): HostRole {
  if (pathname.startsWith('/v1.0/')) return 'graph';
  if (pathname.startsWith('/up/')) return 'upload';
  if (pathname.startsWith('/dl/')) return 'download';
  if (pathname.startsWith('/monitor/')) return 'monitor';
  if (pathname.startsWith('/_emulator/')) return 'control';
  return 'login';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'invalidRequest', `Invalid percent-encoding in '${s}'.`);
  }
}

interface ItemAddress {
  base: 'root' | 'items';
  id?: string;
  segments: string[];
  action: '' | 'children' | 'content' | 'createUploadSession' | 'copy' | 'delta' | 'search';
  /** The q of `search(q='...')`, unquoted. */
  search?: string;
}

const ACTIONS = new Set(['children', 'content', 'createUploadSession', 'copy', 'delta']);

/** `/root`, `/items/{id}`, then `:/a/b:` or `:/a/b` (path addressing), then `/action`. */
function parseItemAddress(rest: string): ItemAddress {
  // `/drive/search(q=)` searches the whole drive, as `/drive/root/search(q=)` does.
  if (/^\/search\(/.test(rest)) rest = `/root${rest}`;
  let m = /^\/root(.*)$/.exec(rest);
  let addr: ItemAddress;
  let tail: string;
  if (m) {
    addr = { base: 'root', segments: [], action: '' };
    tail = m[1]!;
  } else if ((m = /^\/items\/([^/:]+)(.*)$/.exec(rest))) {
    addr = { base: 'items', id: decodeSegment(m[1]!), segments: [], action: '' };
    tail = m[2]!;
  } else {
    throw new HttpError(400, 'invalidRequest', `Unsupported resource path '${rest}'.`);
  }
  if (tail.startsWith(':')) {
    const close = tail.indexOf(':', 1);
    const pathPart = close < 0 ? tail.slice(1) : tail.slice(1, close);
    tail = close < 0 ? '' : tail.slice(close + 1);
    addr.segments = pathPart
      .split('/')
      .filter((s) => s !== '')
      .map(decodeSegment);
    if (!pathPart.startsWith('/'))
      throw new HttpError(400, 'invalidRequest', 'A path must start with / after the colon.');
  }
  if (tail === '' || tail === '/') return addr;
  const fn = /^\/search\((.*)\)$/.exec(tail);
  if (fn) {
    // search(q='text'): a function call whose one parameter is a quoted OData string.
    const arg = /^q='((?:[^']|'')*)'$/.exec(decodeSegment(fn[1]!));
    if (!arg)
      throw new HttpError(
        400,
        'invalidRequest',
        "search takes one parameter, q, as a quoted string: search(q='text').",
      );
    return { ...addr, action: 'search', search: arg[1]!.replace(/''/g, "'") };
  }
  const action = tail.replace(/^\//, '').replace(/\(\)$/, '');
  if (!ACTIONS.has(action))
    throw new HttpError(400, 'invalidRequest', `Unsupported segment '${action}'.`);
  addr.action = action as ItemAddress['action'];
  return addr;
}

function mimeTypeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const types: Record<string, string> = {
    txt: 'text/plain',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    heic: 'image/heic',
    pdf: 'application/pdf',
  };
  return types[ext] ?? 'application/octet-stream';
}
