import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DriveApiError, driveErrors, sendDriveError } from './drive-errors.js';
import {
  FaultQueue,
  implicitTarget,
  type Fault,
  type FaultTarget,
  type RequestClass,
} from './drive-faults.js';
import type { EmulatorControlApi } from '../emulator-control.js';
import { DRIVE_SCOPE, json, OAuthServer } from './drive-oauth.js';
import { googleDriveControlApi } from './google-drive.control-api.js';
import {
  ABOUT_SCHEMA,
  applyFields,
  CHANGE_LIST_SCHEMA,
  DRIVE_LIST_SCHEMA,
  DRIVE_SCHEMA,
  FILE_LIST_SCHEMA,
  FILE_SCHEMA,
  parseFields,
  START_PAGE_TOKEN_SCHEMA,
  type Schema,
} from './drive-fields.js';
import { parseOrderBy, type OrderKey } from './drive-query.js';
import {
  evaluateQuery,
  parseSearchQuery,
  requiredParent,
  type SearchTarget,
} from './drive-search-query.js';
import { DEFAULT_FILE_FIELDS, EMULATED_USER, fileResource, pick } from './drive-resources.js';
import {
  applyWritableMetadata,
  DOC_MIME,
  DriveStore,
  EXPORT_FORMATS,
  FOLDER_MIME,
  IMPORT_FORMATS,
  isNative,
  SHEET_MIME,
  SLIDES_MIME,
  type SharedDrive,
  type StoredFile,
  type WritableMetadata,
} from './drive-store.js';
import { parseJson, readBody, UploadHandler, type UploadCap } from './drive-uploads.js';

export const REAL_API_ORIGIN = 'https://www.googleapis.com';

export interface GoogleDriveEmulatorOptions {
  port?: number;
  host?: string;
  /** Access token lifetime; Google's is 3599 s. */
  tokenTtlSeconds?: number;
  /** Resumable session lifetime (about a week at Google). */
  sessionTtlMs?: number;
  /** Origin used in resumable `Location` headers; the real host by default so the client must rewrite. */
  locationOrigin?: string;
  /**
   * The origin clients reach this server under (behind a TLS front, `https://www.googleapis.com`):
   * written into resumable `Location` headers (unless locationOrigin says otherwise) and
   * `exportLinks`.
   */
  publicBaseUrl?: string;
  /** Seed a shared drive, Google-native documents and duplicate names (default true). */
  fixtures?: boolean;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  contentRange?: string;
  range?: string;
  contentLength?: number;
  status?: number;
  /** Fault applied to this request, if any. */
  fault?: string;
}

export interface GoogleDriveCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  accessToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  /** URLs to point a client at this emulator. */
  apiBaseUrl: string;
  tokenUrl: string;
  authorizeUrl: string;
  revokeUrl: string;
}

/** The control API: faults and state changes on demand. Also reachable over HTTP under /__control. */
export interface GoogleDriveControl {
  inject(
    fault: Fault,
    opts?: { target?: FaultTarget; times?: number; pathIncludes?: string; skip?: number },
  ): void;
  /** 429 (or 403 rateLimitExceeded/userRateLimitExceeded) with Retry-After on the next request(s). */
  rateLimitNext(opts?: {
    status?: 403 | 429;
    reason?: 'rateLimitExceeded' | 'userRateLimitExceeded';
    retryAfterSeconds?: number;
    target?: FaultTarget;
    times?: number;
  }): void;
  /** 500/502/503/504 backendError on the next request(s). */
  failNext(
    status?: 500 | 502 | 503 | 504,
    opts?: { retryAfterSeconds?: number; target?: FaultTarget; times?: number },
  ): void;
  cutNextDownload(afterBytes: number): void;
  /** Cuts the connection inside a chunk PUT; `skip` lets that many chunk PUTs through first. */
  cutNextUploadChunk(afterBytes: number, persistBytes?: number, skip?: number): void;
  partialPersistNext(keepBytes: number, skip?: number): void;
  expireTokens(): void;
  revokeRefreshTokens(): void;
  expireUploadSessions(): void;
  /** Persistent upload failure (daily ~750 GB cap, full storage); null lifts it. */
  setUploadCap(cap: UploadCap): void;
  /** Change tokens issued so far are rejected from now on. */
  invalidateChangeTokens(): void;
  /** Lists return at most this many files per page, whatever pageSize says (null: off). */
  setMaxPageSize(n: number | null): void;
  clearFaults(): void;
  readonly refreshCount: number;
}

export interface GoogleDriveSeeder {
  folder(path: string, opts?: { driveId?: string }): StoredFile;
  file(
    path: string,
    content: Buffer | string,
    opts?: { driveId?: string; mimeType?: string; createdTime?: string; modifiedTime?: string },
  ): Promise<StoredFile>;
  googleDoc(
    path: string,
    kind: 'document' | 'spreadsheet' | 'presentation',
    opts?: { driveId?: string; text?: string },
  ): StoredFile;
  sharedDrive(name: string): SharedDrive;
}

export interface GoogleDriveEmulator {
  baseUrl: string;
  /** The control API shared by the four emulators. */
  api: EmulatorControlApi;
  credentials: GoogleDriveCredentials;
  control: GoogleDriveControl;
  requestLog: RequestLogEntry[];
  seed: GoogleDriveSeeder;
  store: DriveStore;
  uploads: UploadHandler;
  /** The fixture shared drive (when fixtures are on). */
  sharedDrive?: SharedDrive;
  /** Resolves a path (under My Drive, or a shared drive) to the live file, oldest first on duplicates. */
  findByPath(path: string, driveId?: string): StoredFile | undefined;
  /** Reads the stored bytes of a file (test assertions only: loads them into memory). */
  content(id: string): Promise<Buffer>;
  stop(): Promise<void>;
}

const MAX_PAGE = 1000;

export async function startGoogleDriveEmulator(
  opts: GoogleDriveEmulatorOptions = {},
): Promise<GoogleDriveEmulator> {
  const store = await DriveStore.create();
  const oauth = new OAuthServer(opts.tokenTtlSeconds ?? 3599);
  const faults = new FaultQueue();
  const requestLog: RequestLogEntry[] = [];
  const entries = new WeakMap<IncomingMessage, RequestLogEntry>();
  let uploadCap: UploadCap = null;
  let maxPageSize: number | null = null;
  let baseUrl = '';
  const publicOrigin = (opts.publicBaseUrl ?? REAL_API_ORIGIN).replace(/\/+$/, '');

  const sendFile = (res: ServerResponse, status: number, f: StoredFile, fields: string | null) => {
    json(res, status, renderFile(f, fields));
  };
  const renderFile = (f: StoredFile, fields: string | null): unknown => {
    const full = fileResource(f, publicOrigin);
    const tree = parseFields(fields, FILE_SCHEMA);
    return tree === undefined ? pick(full, DEFAULT_FILE_FIELDS) : applyFields(full, tree);
  };

  const uploads = new UploadHandler({
    store,
    faults,
    locationOrigin: opts.locationOrigin ?? opts.publicBaseUrl ?? REAL_API_ORIGIN,
    sessionTtlMs: opts.sessionTtlMs ?? 7 * 24 * 3600_000,
    uploadCap: () => uploadCap,
    sendFile,
    noteFault: (req, fault) => {
      const entry = entries.get(req);
      if (entry) entry.fault = fault;
    },
  });

  const control: GoogleDriveControl = {
    inject(fault, o = {}) {
      faults.push({
        fault,
        target: o.target ?? implicitTarget(fault) ?? 'any',
        remaining: o.times ?? 1,
        pathIncludes: o.pathIncludes,
        skip: o.skip,
      });
    },
    rateLimitNext(o = {}) {
      const status = o.status ?? 429;
      control.inject(
        {
          type: 'error',
          status,
          reason: o.reason ?? (status === 429 ? 'rateLimitExceeded' : 'userRateLimitExceeded'),
          retryAfterSeconds: o.retryAfterSeconds ?? 1,
        },
        { target: o.target, times: o.times },
      );
    },
    failNext(status = 503, o = {}) {
      control.inject(
        { type: 'error', status, reason: 'backendError', retryAfterSeconds: o.retryAfterSeconds },
        { target: o.target, times: o.times },
      );
    },
    cutNextDownload: (afterBytes) => control.inject({ type: 'cutDownload', afterBytes }),
    cutNextUploadChunk: (afterBytes, persistBytes, skip) =>
      control.inject({ type: 'cutUpload', afterBytes, persistBytes }, { skip }),
    partialPersistNext: (keepBytes, skip) =>
      control.inject({ type: 'partialPersist', keepBytes }, { skip }),
    expireTokens: () => oauth.expireAccessTokens(),
    revokeRefreshTokens: () => oauth.revokeRefreshTokens(),
    expireUploadSessions: () => uploads.expireAll(),
    setUploadCap: (cap) => void (uploadCap = cap),
    invalidateChangeTokens: () => store.invalidateTokens(),
    setMaxPageSize: (n) => void (maxPageSize = n),
    clearFaults: () => faults.clear(),
    get refreshCount() {
      return oauth.refreshCount;
    },
  };

  const seed = makeSeeder(store);
  let sharedDrive: SharedDrive | undefined;
  if (opts.fixtures !== false) sharedDrive = await seedFixtures(seed);

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl || 'http://localhost');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentRange: header(req, 'content-range'),
      range: header(req, 'range'),
      contentLength:
        req.headers['content-length'] === undefined
          ? undefined
          : Number(req.headers['content-length']),
    };
    if (!url.pathname.startsWith('/__control')) requestLog.push(entry);
    entries.set(req, entry);
    res.on('finish', () => (entry.status = res.statusCode));
    route(req, res, url, entry).catch((e: unknown) => {
      if (e instanceof DriveApiError) return sendDriveError(res, e);
      if (!res.headersSent) {
        sendDriveError(
          res,
          new DriveApiError(500, 'backendError', `Backend Error: ${(e as Error).message}`),
        );
      } else {
        res.destroy();
      }
    });
  });

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: RequestLogEntry,
  ): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    // Any Host is served: behind a TLS front the client sends www.googleapis.com (or any name the
    // operator chose); Google answers on every name it owns.
    if (path.startsWith('/__control/'))
      return handleControl(req, res, path.slice('/__control/'.length));
    if (path === '/o/oauth2/v2/auth' && method === 'GET') return oauth.consentPage(url, res);
    if (path === '/o/oauth2/v2/auth/approve' && method === 'GET') return oauth.approve(url, res);
    if (path === '/token' && method === 'POST') {
      if (applyErrorFault('token', path, res, entry)) return;
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      return oauth.token(form, res);
    }
    if (path === '/revoke' && method === 'POST') {
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      return oauth.revoke(url.searchParams.get('token') ?? form.get('token'), res);
    }

    const upload = /^\/upload\/drive\/v3\/files(?:\/([^/]+))?$/.exec(path);
    if (upload) {
      // A chunk (or status query) goes to the session URI: PUT as documented, or POST, which
      // long-standing clients send and Google accepts the same way.
      const isChunk = url.searchParams.has('upload_id') && (method === 'PUT' || method === 'POST');
      // Session URIs are capabilities: the bearer header is optional on chunk PUTs.
      if (!isChunk || req.headers.authorization) oauth.checkBearer(req);
      if (applyErrorFault(isChunk ? 'uploadChunk' : 'upload', path, res, entry)) return;
      // A bad selection is refused before anything is stored, as Drive checks it first.
      if (!isChunk) parseFields(url.searchParams.get('fields'), FILE_SCHEMA);
      if (isChunk || (method === 'POST' && !upload[1]) || (method === 'PATCH' && upload[1])) {
        return uploads.handle(req, res, url, upload[1] ? decodeURIComponent(upload[1]) : undefined);
      }
      throw new DriveApiError(405, 'methodNotAllowed', `Method ${method} is not allowed here.`);
    }
    if (!path.startsWith('/drive/v3/')) {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    oauth.checkBearer(req);
    const rest = path.slice('/drive/v3/'.length).split('/').map(decodeURIComponent);
    const q = url.searchParams;
    const isDownload = (rest.length === 2 && q.get('alt') === 'media') || rest[2] === 'export';
    if (applyErrorFault(isDownload ? 'download' : 'api', path, res, entry)) return;
    const all = q.get('supportsAllDrives') === 'true' || q.get('supportsTeamDrives') === 'true';
    // `fields` is checked against the resource the method returns before the method runs, so a
    // bad selection changes nothing (create, update, copy).
    const schema = responseSchema(rest, method, q);
    if (schema) parseFields(q.get('fields'), schema);

    if (rest[0] === 'files') {
      if (rest.length === 1 && method === 'GET') return listFiles(q, res);
      if (rest.length === 1 && method === 'POST') return createMetadataOnly(req, q, res, all);
      const id = rest[1]!;
      if (rest.length === 2 && method === 'GET') {
        const f = store.get(id, all);
        if (q.get('alt') === 'media') return download(req, res, f, entry);
        return sendFile(res, 200, f, q.get('fields'));
      }
      if (rest.length === 2 && method === 'PATCH') return patchFile(req, q, res, id, all);
      if (rest.length === 2 && method === 'DELETE') {
        const f = store.get(id, all);
        if (store.isContainer(f.id))
          throw driveErrors.insufficientPermissions('The root folder cannot be deleted.');
        await store.remove(f);
        res.writeHead(204).end();
        return;
      }
      if (rest.length === 3 && rest[2] === 'copy' && method === 'POST')
        return copyFile(req, q, res, id, all);
      if (rest.length === 3 && rest[2] === 'export' && method === 'GET')
        return exportFile(res, q, store.get(id, all));
    }
    if (rest[0] === 'changes') {
      if (rest.length === 2 && rest[1] === 'startPageToken' && method === 'GET') {
        const driveId = q.get('driveId');
        if (driveId && !all)
          throw driveErrors.invalid(
            'supportsAllDrives',
            'supportsAllDrives must be true with driveId.',
          );
        if (driveId && !store.drives.has(driveId))
          throw new DriveApiError(404, 'notFound', `Shared drive not found: ${driveId}`);
        const body = { kind: 'drive#startPageToken', startPageToken: String(store.startPageToken) };
        const tree = parseFields(q.get('fields'), START_PAGE_TOKEN_SCHEMA);
        return json(res, 200, tree === undefined ? body : applyFields(body, tree));
      }
      if (rest.length === 1 && method === 'GET') return listChanges(q, res, all);
    }
    if (rest[0] === 'drives' && method === 'GET') {
      const drives = [...store.drives.values()].map((d) => ({ kind: 'drive#drive', ...d }));
      if (rest.length === 1) {
        const body = { kind: 'drive#driveList', drives };
        const tree = parseFields(q.get('fields'), DRIVE_LIST_SCHEMA);
        return json(res, 200, tree === undefined ? body : applyFields(body, tree));
      }
      const d = drives.find((x) => x.id === rest[1]);
      if (!d) throw new DriveApiError(404, 'notFound', `Shared drive not found: ${rest[1]}`);
      const tree = parseFields(q.get('fields'), DRIVE_SCHEMA);
      return json(res, 200, tree === undefined ? d : applyFields(d, tree));
    }
    if (rest[0] === 'about' && rest.length === 1 && method === 'GET') {
      const tree = parseFields(q.get('fields'), ABOUT_SCHEMA);
      if (tree === undefined)
        throw driveErrors.badRequest("The 'fields' parameter is required for this method.");
      const { usageInDrive, usageInDriveTrash } = store.usage();
      const about = {
        kind: 'drive#about',
        user: { ...EMULATED_USER },
        storageQuota: {
          limit: String(15 * 1024 ** 3),
          usage: String(usageInDrive),
          usageInDrive: String(usageInDrive),
          usageInDriveTrash: String(usageInDriveTrash),
        },
        importFormats: IMPORT_FORMATS,
        exportFormats: EXPORT_FORMATS,
        maxImportSizes: Object.fromEntries(
          [DOC_MIME, SHEET_MIME, SLIDES_MIME].map((m) => [m, String(10 * 1024 ** 2)]),
        ),
        maxUploadSize: String(5 * 1024 ** 4),
        appInstalled: false,
        folderColorPalette: ['#ac725e', '#d06b64', '#f83a22', '#fa573c', '#ff7537', '#ffad46'],
        canCreateDrives: true,
        canCreateTeamDrives: true,
      };
      return json(res, 200, applyFields(about, tree));
    }
    throw new DriveApiError(404, 'notFound', `Not Found: ${method} ${path}`);
  }

  function applyErrorFault(
    cls: RequestClass,
    path: string,
    res: ServerResponse,
    entry: RequestLogEntry,
  ): boolean {
    const f = faults.take(cls, path, (x) => x.type === 'error');
    if (!f || f.type !== 'error') return false;
    entry.fault = `${f.status} ${f.reason ?? ''}`.trim();
    if (cls === 'token') {
      json(res, f.status, {
        error: 'temporarily_unavailable',
        error_description: 'Try again later.',
      });
      return true;
    }
    const ra = f.retryAfterSeconds;
    const reason = f.reason ?? (f.status === 429 ? 'rateLimitExceeded' : 'backendError');
    const err =
      reason === 'userRateLimitExceeded'
        ? driveErrors.userRateLimit(ra)
        : reason === 'rateLimitExceeded'
          ? f.status === 429
            ? driveErrors.rateLimit429(ra)
            : driveErrors.rateLimit403(ra)
          : reason === 'dailyLimitExceeded'
            ? driveErrors.dailyLimit()
            : reason === 'storageQuotaExceeded'
              ? driveErrors.storageQuota()
              : driveErrors.backendError(f.status === 403 || f.status === 429 ? 503 : f.status, ra);
    sendDriveError(res, err);
    return true;
  }

  function visibleIn(f: StoredFile, q: URLSearchParams, all: boolean): boolean {
    if (!f.driveId) return q.get('corpora') !== 'drive';
    if (!all || q.get('includeItemsFromAllDrives') !== 'true') return false;
    const corpora = q.get('corpora') ?? 'user';
    if (corpora === 'drive') return f.driveId === q.get('driveId');
    return corpora === 'allDrives';
  }

  function listFiles(q: URLSearchParams, res: ServerResponse): void {
    const all = q.get('supportsAllDrives') === 'true';
    const corpora = q.get('corpora');
    if (corpora && !['user', 'drive', 'allDrives', 'domain'].includes(corpora))
      throw driveErrors.invalid('corpora');
    if (corpora === 'drive' && !q.get('driveId'))
      throw driveErrors.invalid(
        'driveId',
        'The driveId parameter must be specified if and only if corpora is set to drive.',
      );
    if (q.get('driveId') && corpora !== 'drive')
      throw driveErrors.invalid(
        'corpora',
        'The driveId parameter must be specified if and only if corpora is set to drive.',
      );
    if (q.get('driveId') && q.get('includeItemsFromAllDrives') !== 'true') {
      throw driveErrors.invalid(
        'includeItemsFromAllDrives',
        'The includeItemsFromAllDrives parameter must be set to true when driveId is specified.',
      );
    }
    const query = parseSearchQuery(q.get('q'));
    const pageSize = q.has('pageSize') ? Number(q.get('pageSize')) : 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE)
      throw driveErrors.invalid('pageSize');
    const order = parseOrderBy(q.get('orderBy'));
    const fingerprint = `${q.get('q') ?? ''}|${q.get('orderBy') ?? ''}|${corpora ?? ''}|${q.get('driveId') ?? ''}`;
    let offset = 0;
    const token = q.get('pageToken');
    if (token) {
      const decoded = decodePageToken(token);
      if (!decoded || decoded.f !== fingerprint) throw driveErrors.invalid('pageToken');
      offset = decoded.o;
    }
    const parent = requiredParent(query);
    const candidates =
      parent !== undefined
        ? store.childIds(store.canonicalId(parent)).map((id) => store.files.get(id)!)
        : [...store.files.values()];
    const ctx = { rootId: store.rootId, userEmail: USER_EMAIL };
    const hits = candidates.filter(
      (f) =>
        !store.isContainer(f.id) &&
        visibleIn(f, q, all) &&
        evaluateQuery(query, searchTarget(f), ctx),
    );
    sortFiles(hits, order);
    const take = Math.min(pageSize, maxPageSize ?? pageSize);
    const page = hits.slice(offset, offset + take);
    const body: Record<string, unknown> = {
      kind: 'drive#fileList',
      incompleteSearch: false,
      files: page.map((f) => fileResource(f, publicOrigin)),
    };
    if (offset + take < hits.length)
      body.nextPageToken = encodePageToken({ o: offset + take, f: fingerprint });
    const tree = parseFields(q.get('fields'), FILE_LIST_SCHEMA);
    if (tree === undefined) {
      body.files = page.map((f) => pick(fileResource(f, publicOrigin), DEFAULT_FILE_FIELDS));
      return json(res, 200, body);
    }
    json(res, 200, applyFields(body, tree));
  }

  async function createMetadataOnly(
    req: IncomingMessage,
    q: URLSearchParams,
    res: ServerResponse,
    all: boolean,
  ) {
    const meta = parseJson(await readBody(req, 1024 * 1024)) as {
      name?: string;
      mimeType?: string;
      parents?: string[];
      modifiedTime?: string;
      createdTime?: string;
    } & WritableMetadata;
    if (meta.parents !== undefined && (!Array.isArray(meta.parents) || meta.parents.length > 1)) {
      throw driveErrors.badRequest('A file must have exactly one parent.');
    }
    const parentId = meta.parents?.[0] ?? 'root';
    const driveId = store.driveOf(parentId, all);
    const mimeType = meta.mimeType ?? 'application/octet-stream';
    const blob = isNative(mimeType) ? undefined : await store.blobFromBuffer(Buffer.alloc(0));
    const f = store.insert({
      name: meta.name ?? 'Untitled',
      mimeType,
      parentId,
      driveId,
      blob,
      modifiedTime: meta.modifiedTime,
      createdTime: meta.createdTime,
      nativeText: isNative(mimeType) && mimeType !== FOLDER_MIME ? '' : undefined,
    });
    applyWritableMetadata(f, meta);
    sendFile(res, 200, f, q.get('fields'));
  }

  async function patchFile(
    req: IncomingMessage,
    q: URLSearchParams,
    res: ServerResponse,
    id: string,
    all: boolean,
  ) {
    const f = store.get(id, all);
    const raw = await readBody(req, 1024 * 1024);
    const meta = (raw.length ? parseJson(raw) : {}) as {
      name?: string;
      trashed?: boolean;
      modifiedTime?: string;
      parents?: unknown;
    } & WritableMetadata;
    if (meta.parents !== undefined) {
      throw driveErrors.badRequest(
        'The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.',
      );
    }
    if (meta.name !== undefined) f.name = meta.name;
    applyWritableMetadata(f, meta);
    if (meta.modifiedTime !== undefined) {
      if (Number.isNaN(Date.parse(meta.modifiedTime))) throw driveErrors.invalid('modifiedTime');
      f.modifiedTime = new Date(meta.modifiedTime).toISOString();
    }
    const add = q.get('addParents');
    const remove = q.get('removeParents');
    if (add || remove) {
      const parents = new Set(f.parents);
      for (const p of (remove ?? '').split(',').filter(Boolean))
        parents.delete(store.canonicalId(p));
      for (const p of (add ?? '').split(',').filter(Boolean)) {
        store.driveOf(p, all);
        parents.add(store.canonicalId(p));
      }
      if (parents.size !== 1)
        throw driveErrors.badRequest('Increasing the number of parents is not allowed.');
      store.setParents(f, [...parents]);
    }
    if (meta.trashed !== undefined && meta.trashed !== f.trashed) store.setTrashed(f, meta.trashed);
    else store.touch(f);
    sendFile(res, 200, f, q.get('fields'));
  }

  async function copyFile(
    req: IncomingMessage,
    q: URLSearchParams,
    res: ServerResponse,
    id: string,
    all: boolean,
  ) {
    const src = store.get(id, all);
    if (src.mimeType === FOLDER_MIME) {
      throw new DriveApiError(403, 'cannotCopyFile', 'This file cannot be copied by the user.');
    }
    const raw = await readBody(req, 1024 * 1024);
    const meta = (raw.length ? parseJson(raw) : {}) as {
      name?: string;
      parents?: string[];
      modifiedTime?: string;
    };
    const parentId = meta.parents?.[0] ?? src.parents[0]!;
    const driveId = store.driveOf(parentId, all);
    const f = store.insert({
      name: meta.name ?? `Copy of ${src.name}`,
      mimeType: src.mimeType,
      parentId,
      driveId,
      blob: src.blob ? await store.copyBlob(src.blob) : undefined,
      modifiedTime: meta.modifiedTime ?? src.modifiedTime,
      nativeText: src.nativeText,
    });
    sendFile(res, 200, f, q.get('fields'));
  }

  function download(
    req: IncomingMessage,
    res: ServerResponse,
    f: StoredFile,
    entry: RequestLogEntry,
  ): void {
    if (!f.blob) throw driveErrors.fileNotDownloadable();
    const size = f.blob.size;
    let start = 0;
    let end = size - 1;
    let partial = false;
    const range = header(req, 'range');
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== '' || m[2] !== '')) {
        partial = true;
        if (m[1] === '') {
          start = Math.max(0, size - Number(m[2]));
        } else {
          start = Number(m[1]);
          end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
        }
        if (start >= size || end < start) {
          const body = JSON.stringify(driveErrors.rangeNotSatisfiable().body());
          res.writeHead(416, {
            'Content-Range': `bytes */${size}`,
            'Content-Type': 'application/json; charset=UTF-8',
            'Content-Length': Buffer.byteLength(body),
          });
          res.end(body);
          return;
        }
      }
    }
    const length = end - start + 1;
    const headers: Record<string, string | number> = {
      'Content-Type': f.mimeType,
      'Content-Length': Math.max(0, length),
      'Content-Disposition': `attachment`,
      'X-Goog-Hash': `md5=${Buffer.from(f.blob.md5, 'hex').toString('base64')}`,
      'Accept-Ranges': 'bytes',
    };
    if (partial) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(partial ? 206 : 200, headers);
    if (length <= 0) {
      res.end();
      return;
    }
    const cut = faults.take('download', entry.path, (x) => x.type === 'cutDownload');
    const limit = cut?.type === 'cutDownload' ? Math.min(length, cut.afterBytes) : length;
    if (cut) entry.fault = `cutDownload after ${limit}`;
    const stream = createReadStream(f.blob.path, {
      start,
      end: start + limit - 1,
      highWaterMark: 256 * 1024,
    });
    if (!cut) {
      stream.pipe(res);
      stream.on('error', () => res.destroy());
      return;
    }
    stream.on('data', (chunk) => {
      if (!res.write(chunk)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      // Let the bytes drain to the socket, then drop the connection mid-body.
      res.socket?.end(() => res.socket?.destroy());
      setTimeout(() => res.socket?.destroy(), 50).unref();
    });
  }

  function exportFile(res: ServerResponse, q: URLSearchParams, f: StoredFile): void {
    const formats = EXPORT_FORMATS[f.mimeType];
    if (!formats) throw driveErrors.fileNotExportable();
    const mime = q.get('mimeType');
    if (!mime) throw driveErrors.invalid('mimeType', 'Required parameter: mimeType');
    if (!formats.includes(mime)) throw driveErrors.conversionNotSupported();
    const body = Buffer.concat([
      Buffer.from([0x50, 0x4b, 0x03, 0x04]),
      Buffer.from(`\nEmulated export of "${f.name}" as ${mime}\n${f.nativeText ?? ''}\n`),
    ]);
    res.writeHead(200, { 'Content-Type': mime, 'Content-Length': body.length });
    res.end(body);
  }

  function listChanges(q: URLSearchParams, res: ServerResponse, all: boolean): void {
    const tokenRaw = q.get('pageToken');
    if (!tokenRaw)
      throw new DriveApiError(
        400,
        'required',
        'Required parameter: pageToken',
        'global',
        {},
        { location: 'pageToken', locationType: 'parameter' },
      );
    const token = Number(tokenRaw);
    if (!Number.isInteger(token) || token < store.minValidToken || token > store.startPageToken) {
      throw driveErrors.invalid('pageToken');
    }
    const pageSize = q.has('pageSize') ? Number(q.get('pageSize')) : 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE)
      throw driveErrors.invalid('pageSize');
    const driveId = q.get('driveId');
    if (driveId && !all) throw driveErrors.invalid('supportsAllDrives');
    const includeAll = all && q.get('includeItemsFromAllDrives') === 'true';
    const includeRemoved = q.get('includeRemoved') !== 'false';
    const relevant = store
      .changesSince(token)
      .filter((c) => (driveId ? c.driveId === driveId : !c.driveId || includeAll))
      .filter((c) => includeRemoved || !c.removed);
    const page = relevant.slice(0, Math.min(pageSize, maxPageSize ?? pageSize));
    const body: Record<string, unknown> = {
      kind: 'drive#changeList',
      changes: page.map((c) => {
        const f = store.files.get(c.fileId);
        const removed = c.removed || !f;
        const out: Record<string, unknown> = {
          kind: 'drive#change',
          changeType: 'file',
          time: c.time,
          removed,
          fileId: c.fileId,
        };
        if (c.driveId) out.driveId = c.driveId;
        if (!removed && f) out.file = fileResource(f, publicOrigin);
        return out;
      }),
    };
    if (relevant.length > page.length) body.nextPageToken = String(relevant[page.length]!.token);
    else body.newStartPageToken = String(store.startPageToken);
    const tree = parseFields(q.get('fields'), CHANGE_LIST_SCHEMA);
    if (tree === undefined) {
      body.changes = (body.changes as Array<Record<string, unknown>>).map((c) => ({
        ...pick(c, ['kind', 'changeType', 'time', 'removed', 'fileId', 'driveId']),
        ...(c.file ? { file: pick(c.file as Record<string, unknown>, DEFAULT_FILE_FIELDS) } : {}),
      }));
      return json(res, 200, body);
    }
    json(res, 200, applyFields(body, tree));
  }

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    action: string,
  ): Promise<void> {
    const raw = await readBody(req, 64 * 1024);
    const body = (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as Record<string, unknown>;
    switch (action) {
      case 'inject':
        control.inject(
          body.fault as Fault,
          body as { target?: FaultTarget; times?: number; skip?: number },
        );
        break;
      case 'rate-limit-next':
        control.rateLimitNext(body as Parameters<GoogleDriveControl['rateLimitNext']>[0]);
        break;
      case 'fail-next':
        control.failNext((body.status as 500 | 503 | undefined) ?? 503, body);
        break;
      case 'cut-next-download':
        control.cutNextDownload(Number(body.afterBytes ?? 0));
        break;
      case 'cut-next-upload-chunk':
        control.cutNextUploadChunk(
          Number(body.afterBytes ?? 0),
          body.persistBytes as number | undefined,
        );
        break;
      case 'partial-persist-next':
        control.partialPersistNext(Number(body.keepBytes ?? 0));
        break;
      case 'expire-tokens':
        control.expireTokens();
        break;
      case 'revoke-refresh-tokens':
        control.revokeRefreshTokens();
        break;
      case 'expire-upload-sessions':
        control.expireUploadSessions();
        break;
      case 'upload-cap':
        control.setUploadCap((body.cap as UploadCap | undefined) ?? null);
        break;
      case 'invalidate-change-tokens':
        control.invalidateChangeTokens();
        break;
      case 'clear-faults':
        control.clearFaults();
        break;
      case 'requests':
        return json(res, 200, requestLog);
      default:
        return json(res, 404, { error: `unknown control action '${action}'` });
    }
    json(res, 200, { ok: true });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  baseUrl = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  const initial = oauth.issueInitial();

  const handle: Omit<GoogleDriveEmulator, 'api'> = {
    baseUrl,
    credentials: {
      clientId: oauth.client.clientId,
      clientSecret: oauth.client.clientSecret,
      refreshToken: initial.refreshToken,
      accessToken: initial.accessToken,
      accessTokenExpiresAt: initial.expiresAt,
      apiBaseUrl: baseUrl,
      tokenUrl: `${baseUrl}/token`,
      authorizeUrl: `${baseUrl}/o/oauth2/v2/auth`,
      revokeUrl: `${baseUrl}/revoke`,
    },
    control,
    requestLog,
    seed,
    store,
    uploads,
    sharedDrive,
    findByPath: (path, driveId) => findByPath(store, path, driveId),
    content: async (id) => {
      const f = store.files.get(id);
      if (!f?.blob) throw new Error(`no blob for ${id}`);
      const parts: Buffer[] = [];
      for await (const c of createReadStream(f.blob.path)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.destroy();
    },
  };
  return { ...handle, api: googleDriveControlApi(handle) };
}

const USER_EMAIL = 'user@example.com';

function searchTarget(f: StoredFile): SearchTarget {
  return { ...f, shortcutTargetId: undefined };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function encodePageToken(t: { o: number; f: string }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodePageToken(s: string): { o: number; f: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as {
      o?: unknown;
      f?: unknown;
    };
    return typeof v.o === 'number' && typeof v.f === 'string' ? { o: v.o, f: v.f } : undefined;
  } catch {
    return undefined;
  }
}

function sortFiles(files: StoredFile[], order: OrderKey[]): void {
  if (order.length === 0) return; // creation order, like an unordered listing
  files.sort((a, b) => {
    for (const { key, desc } of order) {
      const d =
        key === 'folder'
          ? Number(b.mimeType === FOLDER_MIME) - Number(a.mimeType === FOLDER_MIME)
          : key === 'name'
            ? a.name.localeCompare(b.name)
            : a[key].localeCompare(b[key]);
      if (d !== 0) return desc ? -d : d;
    }
    return a.id.localeCompare(b.id);
  });
}

function findByPath(store: DriveStore, path: string, driveId?: string): StoredFile | undefined {
  let parent = driveId ?? store.rootId;
  let found: StoredFile | undefined;
  for (const name of path.split('/').filter(Boolean)) {
    const kids = store
      .childIds(parent)
      .map((id) => store.files.get(id)!)
      .filter((f) => f.name === name && !f.trashed)
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.id.localeCompare(b.id));
    found = kids[0];
    if (!found) return undefined;
    parent = found.id;
  }
  return found;
}

function makeSeeder(store: DriveStore): GoogleDriveSeeder {
  const ensureFolder = (path: string, driveId?: string): string => {
    let parent = driveId ?? store.rootId;
    for (const name of path.split('/').filter(Boolean)) {
      const existing = findByPath(store, name, parent === store.rootId ? undefined : parent);
      if (existing && existing.mimeType === FOLDER_MIME) {
        parent = existing.id;
        continue;
      }
      parent = store.insert({ name, mimeType: FOLDER_MIME, parentId: parent, driveId }).id;
    }
    return parent;
  };
  const split = (path: string) => {
    const i = path.lastIndexOf('/');
    return i < 0 ? { dir: '', name: path } : { dir: path.slice(0, i), name: path.slice(i + 1) };
  };
  return {
    folder: (path, o = {}) => store.files.get(ensureFolder(path, o.driveId))!,
    file: async (path, content, o = {}) => {
      const { dir, name } = split(path);
      const parentId = ensureFolder(dir, o.driveId);
      const blob = await store.blobFromBuffer(
        typeof content === 'string' ? Buffer.from(content) : content,
      );
      return store.insert({
        name,
        mimeType: o.mimeType ?? 'application/octet-stream',
        parentId,
        driveId: o.driveId,
        blob,
        createdTime: o.createdTime,
        modifiedTime: o.modifiedTime,
      });
    },
    googleDoc: (path, kind, o = {}) => {
      const { dir, name } = split(path);
      const mimeType =
        kind === 'document' ? DOC_MIME : kind === 'spreadsheet' ? SHEET_MIME : SLIDES_MIME;
      return store.insert({
        name,
        mimeType,
        parentId: ensureFolder(dir, o.driveId),
        driveId: o.driveId,
        nativeText: o.text ?? `${kind} ${name}`,
      });
    },
    sharedDrive: (name) => store.addSharedDrive(name),
  };
}

/** A shared drive, Google-native documents and two files with the same name. */
async function seedFixtures(seed: GoogleDriveSeeder): Promise<SharedDrive> {
  seed.googleDoc('Fixtures/Project Plan', 'document', { text: 'Milestones: M1, M2' });
  seed.googleDoc('Fixtures/Budget', 'spreadsheet', { text: 'a,b\n1,2' });
  seed.googleDoc('Fixtures/Deck', 'presentation');
  await seed.file('Fixtures/notes.txt', 'plain notes\n', { mimeType: 'text/plain' });
  await seed.file('Fixtures/duplicate.txt', 'older duplicate\n', { mimeType: 'text/plain' });
  await seed.file('Fixtures/duplicate.txt', 'newer duplicate\n', { mimeType: 'text/plain' });
  const drive = seed.sharedDrive('Team Backups');
  await seed.file('Shared Folder/readme.txt', 'shared drive file\n', {
    driveId: drive.id,
    mimeType: 'text/plain',
  });
  seed.googleDoc('Shared Folder/Team Doc', 'document', { driveId: drive.id });
  return drive;
}

export { DRIVE_SCOPE };

/** The resource a Drive v3 method answers with, for checking `fields` up front. */
function responseSchema(rest: string[], method: string, q: URLSearchParams): Schema | undefined {
  const [resource, id, sub] = rest;
  if (resource === 'files') {
    if (rest.length === 1) return method === 'GET' ? FILE_LIST_SCHEMA : FILE_SCHEMA;
    if (rest.length === 2 && id !== undefined && q.get('alt') !== 'media') return FILE_SCHEMA;
    if (rest.length === 3 && sub === 'copy') return FILE_SCHEMA;
    return undefined;
  }
  if (resource === 'changes')
    return id === 'startPageToken' ? START_PAGE_TOKEN_SCHEMA : CHANGE_LIST_SCHEMA;
  if (resource === 'drives') return rest.length === 1 ? DRIVE_LIST_SCHEMA : DRIVE_SCHEMA;
  if (resource === 'about') return ABOUT_SCHEMA;
  return undefined;
}
