import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { isFavorite, parseFilters, SMART_ALBUM_COUNT_NAMES, SMART_ALBUMS } from './ck-query.js';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeVerifier, SrpServer, type SrpProtocol } from './srp-server.js';
import {
  resourceBytes,
  resourceKey,
  utiOf,
  ZoneLibrary,
  type AlbumState,
  type AssetKind,
  type AssetState,
  type ResourceVariant,
} from './library.js';

/**
 * A local fake of every host the iCloud Photos connector talks to, on one port, each host a path
 * prefix: idmsa (`/appleauth/auth`), setup (`/setup/ws/1`), CloudKit (`/database/1/...`, the
 * `ckdatabasews` URL accountLogin hands out), the blob CDN (`/B/...`, signed URLs), and the upload
 * flow of §4.2: `photosupload` (`/photosupload/...`), its one-time content URLs (`/mmcs/put/...`)
 * and the withdrawn `uploadimagews` `/upload` (410 Gone). Follows
 * /work/shared/protocols/icloud-photos.md; upload choices where the brief is silent are on
 * `handleUpload`.
 */

import type { EmulatorControlApi } from '../emulator-control.js';
import { iCloudPhotosControlApi } from './icloud-photos.control-api.js';

export const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';
const CK_PREFIX = '/database/1/com.apple.photos.cloud/production/';

export interface ICloudPhotosEmulatorOptions {
  port?: number;
  host?: string;
  appleId?: string;
  password?: string;
  /** Password derivation of the account: `s2k` (current) or `s2k_fo` (older passwords). */
  protocol?: SrpProtocol;
  iterations?: number;
  seed?: string;
  /** Items in the personal library (PrimarySync). */
  librarySize?: number;
  /** Items in the iCloud Shared Library zone; 0 means the account has none. */
  sharedLibrarySize?: number;
  /** Owners see the shared zone in the private database, participants only in the shared one. */
  sharedLibraryRole?: 'owner' | 'participant';
  minFileSize?: number;
  maxFileSize?: number;
  startDate?: number;
  spanMs?: number;
  /** Signed download URL lifetime (Apple: about an hour). */
  urlTtlSec?: number;
  /** Trust token lifetime (about 30 days these days). */
  trustTtlMs?: number;
  /** Wrong codes accepted before the code is locked. */
  codeAttemptLimit?: number;
  /** The account has FIDO security keys only: 409 with fsaChallenge. */
  fidoOnly?: boolean;
  /** Largest file createUploadUrl accepts (the brief is silent; default 16 GiB). */
  maxUploadBytes?: number;
  /** Uploaded assets stay invisible to query/lookup/changes this long (Apple: ~14-20 s). */
  uploadIndexingDelayMs?: number;
  /**
   * Origins handed out per service (accountLogin's webservices, download and upload URLs), e.g.
   * `{ ckdatabasews: 'https://p61-ckdatabasews.icloud.com:443', cdn: 'https://cvws.icloud-content.com' }`
   * behind a TLS front. Default: this server for all of them. Paths are the real ones, so one
   * server can stand behind every name.
   */
  publicUrls?: Partial<Record<ICloudService, string>>;
  /**
   * Domain of the web-session cookies (`.icloud.com` at Apple). Default: derived from the public
   * setup URL (its parent domain), else none (host-only cookies on this server's address), so a
   * cookie-jar client sends them back to the URLs it was handed. `Secure` is set when the setup
   * URL is https.
   */
  cookieDomain?: string;
}

export type ICloudService =
  'idmsa' | 'setup' | 'ckdatabasews' | 'photosupload' | 'uploadimagews' | 'cdn';

export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Stable label used for counting, e.g. 'ck private/records/query', 'cdn GET'. */
  endpoint: string;
  status: number;
  range?: string;
  /** For CloudKit queries: the recordType and startRank asked for. */
  recordType?: string;
  startRank?: number;
  /** For upload content URLs: body bytes received. */
  bytes?: number;
}

export interface RequestLog {
  readonly entries: RequestLogEntry[];
  clear(): void;
  /** Count of requests per endpoint label. */
  counts(): Record<string, number>;
  /** Requests whose endpoint starts with a prefix ('ck', 'idmsa', 'cdn'). */
  count(prefix?: string): number;
}

type FaultScope = 'idmsa' | 'setup' | 'ck' | 'cdn' | 'upload' | 'any';

interface Fault {
  scope: FaultScope;
  status: number;
  retryAfterSec?: number;
  remaining: number;
}

export interface ICloudPhotosControl {
  /** Next `count` requests in `scope` answer `status` (503 THROTTLED by default) with Retry-After. */
  throttle(opts?: {
    count?: number;
    status?: number;
    retryAfterSec?: number;
    scope?: FaultScope;
  }): void;
  /** The next request (any host) answers 429 with Retry-After: 1. */
  rateLimitNext(): void;
  /** Every download URL handed out so far answers 410 Gone from now on. */
  expireDownloadUrls(): void;
  /** The next download is cut after `afterBytes` body bytes; optionally its URL expires at once. */
  cutNextDownload(afterBytes: number, opts?: { expireUrls?: boolean }): void;
  /** Kills the web session: CloudKit answers 401 (or 421 for a partition move), validate 421. */
  expireSession(status?: 401 | 421): void;
  /** Trust tokens issued so far stop skipping the second factor. */
  expireTrustTokens(): void;
  /** Locks the account (Apple's "This Apple ID has been locked for security reasons"). */
  lockAccount(locked?: boolean): void;
  /** The code the "trusted device" last received. */
  lastSecurityCode(): string | undefined;
  setIndexingState(state: 'FINISHED' | 'RUNNING'): void;
  /** Moves the emulator's clock forward (URL, trust and session expiry). */
  advanceTime(ms: number): void;
  addAsset(overrides?: Partial<AssetState>, zone?: 'primary' | 'shared'): AssetState;
  editAsset(assetId: string, zone?: 'primary' | 'shared'): AssetState;
  deleteAsset(assetId: string, opts?: { purge?: boolean; zone?: 'primary' | 'shared' }): AssetState;
  /** iCloud storage left for uploads, in bytes (undefined: unlimited). */
  setStorageQuota(bytes: number | undefined): void;
  /** Publishes uploads still waiting out their indexing delay. */
  finishIndexing(): void;
  /** Drops pending faults (throttling, a download cut). */
  clearFaults(): void;
}

export interface ICloudPhotosEmulator {
  baseUrl: string;
  /** The control API shared by the four emulators. */
  api: EmulatorControlApi;
  /** idmsa base URL (`authBaseUrl` option of the connector). */
  authBaseUrl: string;
  /** setup base URL (`setupBaseUrl` option of the connector). */
  setupBaseUrl: string;
  credentials: { appleId: string; password: string };
  control: ICloudPhotosControl;
  requestLog: RequestLog;
  primary: ZoneLibrary;
  shared?: ZoneLibrary;
  /** The bytes the emulator serves for a resource, for assertions. */
  expectedBytes(asset: AssetState, variant: ResourceVariant): Buffer;
  stop(): Promise<void>;
}

interface AuthSession {
  id: string;
  scnt: string;
  appleId: string;
  verified: boolean;
  code?: string;
  attempts: number;
  locked: boolean;
}

interface SrpPending {
  appleId: string;
  server: SrpServer;
  salt: Buffer;
  clientA: Buffer;
  authSessionId: string;
}

interface SessionToken {
  appleId: string;
  trusted: boolean;
  valid: boolean;
}

interface WebSession {
  appleId: string;
  trusted: boolean;
  valid: boolean;
  deadStatus: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

function serviceError(status: number, code: string, message: string): HttpError {
  return new HttpError(status, {
    serviceErrors: [{ code, message, suppressDismissal: false }],
    hasError: true,
  });
}

function ckError(status: number, serverErrorCode: string, reason: string): HttpError {
  return new HttpError(status, { uuid: randomUUID(), serverErrorCode, reason });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of req) {
    total += (c as Buffer).length;
    if (total > 4 * 1024 * 1024) throw new HttpError(413, { error: 'body too large' });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text === '' ? 'null' : text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    throw ckError(400, 'BAD_REQUEST', 'malformed JSON body');
  }
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

type Db = 'private' | 'shared';

export async function startICloudPhotosEmulator(
  options: ICloudPhotosEmulatorOptions = {},
): Promise<ICloudPhotosEmulator> {
  const appleId = options.appleId ?? 'photos.user@example.com';
  const password = options.password ?? 'correct horse battery staple';
  const protocol = options.protocol ?? 's2k';
  const iterations = options.iterations ?? 20064;
  const seed = options.seed ?? 'cbe-icloud';
  const urlTtlSec = options.urlTtlSec ?? 3600;
  const trustTtlMs = options.trustTtlMs ?? 30 * 86_400_000;
  const codeAttemptLimit = options.codeAttemptLimit ?? 5;
  const sharedRole = options.sharedLibraryRole ?? 'owner';
  const salt = Buffer.from(randomBytes(16));
  const verifier = computeVerifier(password, salt, iterations, protocol);
  const dsid = '12345678901';
  const ownerRecordName =
    '_' + createHmac('sha256', seed).update('owner').digest('hex').slice(0, 32);
  const urlSecret = randomBytes(16);

  const libOpts = {
    seed,
    minFileSize: options.minFileSize ?? 1024,
    maxFileSize: options.maxFileSize ?? 48 * 1024,
    startDate: options.startDate ?? Date.UTC(2019, 0, 1),
    spanMs: options.spanMs ?? 3 * 365 * 86_400_000,
  };
  const primary = new ZoneLibrary({
    ...libOpts,
    zone: 'PrimarySync',
    size: options.librarySize ?? 50,
    albums: true,
  });
  const sharedSize = options.sharedLibrarySize ?? 6;
  const sharedZoneName = `SharedSync-${createHmac('sha256', seed).update('shared').digest('hex').slice(0, 8).toUpperCase()}-0000-4000-8000-000000000001`;
  const shared =
    sharedSize > 0
      ? new ZoneLibrary({
          ...libOpts,
          seed: seed + '-shared',
          zone: sharedZoneName,
          size: sharedSize,
          albums: false,
        })
      : undefined;
  const decoyZone = 'CMM-6A1E3F7C-0000-4000-8000-000000000002';

  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  let urlEpoch = 1;
  let indexingState: 'FINISHED' | 'RUNNING' = 'FINISHED';
  let accountLocked = false;
  let cut: { afterBytes: number; expireUrls: boolean } | undefined;
  const faults: Fault[] = [];
  const authSessions = new Map<string, AuthSession>();
  const srpPending = new Map<string, SrpPending>();
  const sessionTokens = new Map<string, SessionToken>();
  const trustTokens = new Map<string, { expiresAt: number; valid: boolean }>();
  const webSessions = new Map<string, WebSession>();
  let lastCode: string | undefined;
  const entries: RequestLogEntry[] = [];
  let baseUrl = '';
  const origin = (service: ICloudService): string =>
    (options.publicUrls?.[service] ?? baseUrl).replace(/\/+$/, '');
  /** `; Domain=...; Secure` as the handed-out URLs call for (see the cookieDomain option). */
  const cookieAttrs = (service: 'idmsa' | 'setup'): string => {
    const pub = options.publicUrls?.[service];
    const url = new URL(pub ?? (baseUrl || 'http://127.0.0.1'));
    let domain: string | undefined;
    if (service === 'setup') {
      domain =
        options.cookieDomain ??
        (pub ? `.${url.hostname.split('.').slice(-2).join('.')}` : undefined);
    } else if (pub) {
      domain = url.hostname;
    }
    return `Path=/${domain ? `; Domain=${domain}` : ''}${url.protocol === 'https:' ? '; Secure' : ''}; HttpOnly`;
  };

  const requestLog: RequestLog = {
    entries,
    clear: () => void entries.splice(0, entries.length),
    counts: () => {
      const out: Record<string, number> = {};
      for (const e of entries) out[e.endpoint] = (out[e.endpoint] ?? 0) + 1;
      return out;
    },
    count: (prefix = '') => entries.filter((e) => e.endpoint.startsWith(prefix)).length,
  };

  // ---------------------------------------------------------------- records

  const zoneOf = (db: Db, zoneName: unknown): ZoneLibrary | 'decoy' => {
    if (db === 'private' && zoneName === 'PrimarySync') return primary;
    if (shared && zoneName === sharedZoneName && (db === 'private') === (sharedRole === 'owner'))
      return shared;
    if (db === 'private' && zoneName === decoyZone) return 'decoy';
    throw ckError(404, 'ZONE_NOT_FOUND', `Zone '${String(zoneName)}' does not exist`);
  };

  const zoneId = (z: ZoneLibrary) => ({
    zoneName: z.opts.zone,
    ownerRecordName,
    zoneType: 'REGULAR_CUSTOM_ZONE',
  });
  const syncToken = (z: ZoneLibrary, seq = z.seq) =>
    Buffer.from(`CK1:${z.opts.zone}:${seq}`).toString('base64');
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const checksum = (...p: Array<string | number>) =>
    'A' + createHmac('sha256', seed).update(p.join('|')).digest('base64').slice(0, 27);

  const signUrl = (
    z: ZoneLibrary,
    a: AssetState,
    variant: ResourceVariant,
    gen: number,
    owner: string,
  ) => {
    const token = Buffer.from(`${z.opts.zone}|${a.index}|${variant}|${gen}`).toString('base64url');
    const e = Math.floor(now() / 1000) + urlTtlSec;
    const s = createHmac('sha256', urlSecret)
      .update(`${token}|${e}|${urlEpoch}`)
      .digest('hex')
      .slice(0, 22);
    return `${origin('cdn')}/B/${token}/\${f}?o=${encodeURIComponent(owner)}&v=1&x=${urlEpoch}&a=CAog&e=${e}&k=_&ckc=com.apple.photos.cloud&ckz=${encodeURIComponent(z.opts.zone)}&p=10&s=${s}`;
  };

  const resource = (z: ZoneLibrary, a: AssetState, variant: ResourceVariant, owner: string) => {
    const gen = variant === 'resJPEGFull' ? a.editGen : 0;
    return {
      type: 'ASSETID',
      value: {
        size: a.sizes[variant],
        fileChecksum: checksum(z.opts.zone, a.index, variant, gen),
        referenceChecksum: checksum('ref', z.opts.zone, a.index, variant, gen),
        wrappingKey: checksum('wk', a.index, variant) + '==',
        downloadURL: signUrl(z, a, variant, gen, owner),
      },
    };
  };

  const envelope = (
    z: ZoneLibrary,
    recordName: string,
    recordType: string,
    fields: Record<string, unknown>,
    tag: number,
    created: number,
    modified: number,
    desired?: string[],
  ) => {
    if (desired) {
      for (const k of Object.keys(fields)) if (!desired.includes(k)) delete fields[k];
    }
    return {
      recordName,
      recordType,
      fields,
      pluginFields: {},
      recordChangeTag: tag.toString(36),
      created: { timestamp: created, userRecordName: ownerRecordName, deviceID: '2' },
      modified: { timestamp: modified, userRecordName: ownerRecordName, deviceID: '2' },
      deleted: false,
      zoneID: zoneId(z),
    };
  };

  const tombstone = (z: ZoneLibrary, recordName: string) => ({
    recordName,
    deleted: true,
    zoneID: zoneId(z),
  });

  const masterRecord = (z: ZoneLibrary, a: AssetState, desired?: string[]) => {
    if (a.purged) return tombstone(z, a.masterId);
    const f: Record<string, unknown> = {};
    if (a.filename !== undefined) {
      f.filenameEnc =
        a.filenameType === 'STRING'
          ? { type: 'STRING', value: a.filename }
          : { type: 'ENCRYPTED_BYTES', value: b64(a.filename) };
    }
    f.itemType = { type: 'STRING', value: utiOf(z.extOf(a, 'resOriginal')) };
    for (const v of ['resOriginal', 'resOriginalAlt', 'resOriginalVidCompl'] as const) {
      if (a.sizes[v] === undefined) continue;
      f[`${v}Res`] = resource(z, a, v, a.masterId);
      f[`${v}FileType`] = { type: 'STRING', value: utiOf(z.extOf(a, v)) };
      f[`${v}Width`] = { type: 'INT64', value: 4032 };
      f[`${v}Height`] = { type: 'INT64', value: 3024 };
    }
    if (a.deleted) f.isDeleted = { type: 'INT64', value: 1 };
    return envelope(z, a.masterId, 'CPLMaster', f, a.masterTag, a.addedDate, a.addedDate, desired);
  };

  const assetRecord = (z: ZoneLibrary, a: AssetState, desired?: string[]) => {
    if (a.purged) return tombstone(z, a.assetId);
    const f: Record<string, unknown> = {
      masterRef: {
        type: 'REFERENCE',
        value: { recordName: a.masterId, action: 'DELETE_SELF', zoneID: zoneId(z) },
      },
      assetDate: { type: 'TIMESTAMP', value: a.assetDate },
      addedDate: { type: 'TIMESTAMP', value: a.addedDate },
      timeZoneOffset: { type: 'INT64', value: a.tzOffset },
      isHidden: { type: 'INT64', value: a.hidden ? 1 : 0 },
      isFavorite: { type: 'INT64', value: isFavorite(a) ? 1 : 0 },
    };
    if (a.deleted) {
      f.isDeleted = { type: 'INT64', value: 1 };
      f.dateExpunged = { type: 'TIMESTAMP', value: now() + 30 * 86_400_000 };
    }
    if (a.editGen > 0) {
      f.adjustmentType = { type: 'STRING', value: 'com.apple.photo' };
      f.resJPEGFullRes = resource(z, a, 'resJPEGFull', a.assetId);
      f.resJPEGFullFileType = { type: 'STRING', value: 'public.jpeg' };
    }
    if (a.kind === 'mov') f.duration = { type: 'INT64', value: 12 };
    return envelope(z, a.assetId, 'CPLAsset', f, a.assetTag, a.addedDate, a.modifiedAt, desired);
  };

  const albumRecord = (z: ZoneLibrary, al: AlbumState) =>
    envelope(
      z,
      al.recordName,
      'CPLAlbum',
      {
        albumNameEnc: { type: 'ENCRYPTED_BYTES', value: b64(al.name) },
        albumType: { type: 'INT64', value: al.albumType },
        ...(al.parentId ? { parentId: { type: 'STRING', value: al.parentId } } : {}),
        position: { type: 'INT64', value: al.position },
        sortAscending: { type: 'INT64', value: 1 },
        sortType: { type: 'INT64', value: 0 },
        ...(al.deleted ? { isDeleted: { type: 'INT64', value: 1 } } : {}),
      },
      1,
      0,
      0,
    );

  const relationRecord = (z: ZoneLibrary, assetId: string, albumId: string) => {
    const name = `${assetId}-IN-${albumId}`;
    const album = z.albums.find((x) => x.recordName === albumId);
    if (!album || !album.members.has(assetId)) return tombstone(z, name);
    return envelope(
      z,
      name,
      'CPLContainerRelation',
      {
        containerId: { type: 'STRING', value: albumId },
        itemId: { type: 'STRING', value: assetId },
        position: { type: 'INT64', value: 1024 },
        isKeyAsset: { type: 'INT64', value: 0 },
      },
      1,
      0,
      0,
    );
  };

  const recordForKey = (z: ZoneLibrary, key: string): unknown => {
    const id = key.slice(2);
    switch (key[0]) {
      case 'M':
        return masterRecord(z, z.byMasterId.get(id)!);
      case 'A':
        return assetRecord(z, z.byAssetId.get(id)!);
      case 'L':
        return albumRecord(
          z,
          z.albums.find((a) => a.recordName === id)!,
        );
      default: {
        const [assetId, albumId] = id.split('-IN-') as [string, string];
        return relationRecord(z, assetId, albumId);
      }
    }
  };

  // ---------------------------------------------------------------- handlers

  const runQuery = (
    db: Db,
    body: Record<string, unknown>,
    log: RequestLogEntry,
  ): Record<string, unknown> => {
    const query = (body.query ?? {}) as Record<string, unknown>;
    const recordType = String(query.recordType ?? '');
    log.recordType = recordType;
    const z = zoneOf(db, (body.zoneID as { zoneName?: unknown } | undefined)?.zoneName);
    const filters = parseFilters(recordType, query.filterBy, (reason) =>
      ckError(400, 'BAD_REQUEST', reason),
    );
    if (recordType === 'CheckIndexingState') {
      return {
        records: [
          {
            recordName: '_' + randomUUID(),
            recordType: 'CheckIndexingState',
            fields: {
              state: { type: 'STRING', value: indexingState },
              ...(indexingState === 'RUNNING' ? { progress: { type: 'INT64', value: 42 } } : {}),
            },
          },
        ],
      };
    }
    if (z === 'decoy') throw ckError(400, 'BAD_REQUEST', 'Index has invalid data');
    const limit = Math.min(Number(body.resultsLimit ?? 200), 2000);
    if (!Number.isInteger(limit) || limit < 1)
      throw ckError(400, 'BAD_REQUEST', 'resultsLimit must be a positive integer');
    const desired = Array.isArray(body.desiredKeys) ? (body.desiredKeys as string[]) : undefined;
    const base = { syncToken: syncToken(z) };
    switch (recordType) {
      case 'HyperionIndexCountLookup': {
        const ids = filters.get('indexCountID');
        if (!Array.isArray(ids))
          throw ckError(400, 'BAD_REQUEST', 'filterBy: indexCountID is required');
        const countOf = (id: string): number => {
          if (id === 'CPLAssetByAssetDateWithoutHiddenOrDeleted') return z.visible().length;
          if (id === 'CPLAssetHiddenByAssetDate') return hiddenAssets(z).length;
          if (id === 'CPLAssetDeletedByExpungedDate') return deletedAssets(z).length;
          if (id.startsWith('CPLContainerRelationNotDeletedByAssetDate:'))
            return z.albumMembers(id.split(':')[1] ?? '').length;
          const smart = /^CPLAssetInSmartAlbumByAssetDate:(\w+)$/.exec(id)?.[1];
          const album = smart === undefined ? undefined : SMART_ALBUM_COUNT_NAMES[smart];
          if (album) return z.visible().filter(SMART_ALBUMS[album]!).length;
          throw ckError(400, 'BAD_REQUEST', `Unknown index count id ${id}`);
        };
        return {
          ...base,
          records: (ids as string[]).map((id) => ({
            recordName: id,
            recordType: 'IndexCountResult',
            fields: { itemCount: { type: 'INT64', value: countOf(id) } },
          })),
        };
      }
      case 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted':
      case 'CPLAssetAndMasterInSmartAlbumByAssetDate':
      case 'CPLAssetAndMasterHiddenByAssetDate':
      case 'CPLAssetAndMasterDeletedByExpungedDate':
      case 'CPLContainerRelationLiveByPosition':
      case 'CPLContainerRelationLiveByAssetDate': {
        const startRank = Number(filters.get('startRank') ?? 0);
        const direction = String(filters.get('direction') ?? 'ASCENDING');
        if (!Number.isInteger(startRank) || startRank < 0)
          throw ckError(400, 'BAD_REQUEST', 'bad startRank');
        log.startRank = startRank;
        let items: AssetState[];
        const byPosition = recordType === 'CPLContainerRelationLiveByPosition';
        const isAlbum = byPosition || recordType === 'CPLContainerRelationLiveByAssetDate';
        let albumId = '';
        if (isAlbum) {
          albumId = String(filters.get('parentId') ?? '');
          if (!z.albums.some((a) => a.recordName === albumId && !a.deleted)) {
            throw ckError(400, 'BAD_REQUEST', 'Unknown container for parentId');
          }
          items = byPosition ? z.albumMembersByPosition(albumId) : z.albumMembers(albumId);
        } else if (recordType === 'CPLAssetAndMasterInSmartAlbumByAssetDate') {
          const album = filters.get('smartAlbum');
          if (typeof album !== 'string')
            throw ckError(400, 'BAD_REQUEST', 'filterBy: smartAlbum is required');
          items = z.visible().filter(SMART_ALBUMS[album]!);
        } else if (recordType === 'CPLAssetAndMasterHiddenByAssetDate') items = hiddenAssets(z);
        else if (recordType === 'CPLAssetAndMasterDeletedByExpungedDate') items = deletedAssets(z);
        else items = z.visible();
        if (direction === 'DESCENDING') items = [...items].reverse();
        const per = isAlbum ? 3 : 2;
        const records: unknown[] = [];
        for (let r = startRank; r < items.length && records.length < limit; r++) {
          const a = items[r]!;
          const group = [
            ...(isAlbum ? [relationRecord(z, a.assetId, albumId)] : []),
            masterRecord(z, a, desired),
            assetRecord(z, a, desired),
          ];
          // A page may end in the middle of a group (the client buffers unmatched halves).
          records.push(...group.slice(0, Math.min(per, limit - records.length)));
        }
        return { ...base, records };
      }
      case 'CPLAlbumByPositionLive': {
        const parent = filters.get('parentId');
        const all = z.albums.filter(
          (a) => !a.deleted && (parent === undefined || a.parentId === parent),
        );
        const start = body.continuationMarker
          ? Number(Buffer.from(String(body.continuationMarker), 'base64').toString())
          : 0;
        if (!Number.isInteger(start) || start < 0)
          throw ckError(400, 'BAD_REQUEST', 'bad continuationMarker');
        const page = all.slice(start, start + limit);
        const records: unknown[] = [];
        if (start === 0 && parent === undefined) {
          records.push(
            envelope(
              z,
              '----Root-Folder----',
              'CPLAlbum',
              { albumType: { type: 'INT64', value: 3 } },
              1,
              0,
              0,
            ),
          );
        }
        records.push(...page.map((a) => albumRecord(z, a)));
        const next = start + page.length;
        return {
          ...base,
          records,
          ...(next < all.length
            ? { continuationMarker: Buffer.from(String(next)).toString('base64') }
            : {}),
        };
      }
      default:
        throw ckError(400, 'BAD_REQUEST', `Unknown or unsupported index '${recordType}'`);
    }
  };

  const findRecord = (z: ZoneLibrary, name: string): unknown => {
    const a = z.byAssetId.get(name);
    if (a) return assetRecord(z, a);
    const m = z.byMasterId.get(name);
    if (m) return masterRecord(z, m);
    const al = z.albums.find((x) => x.recordName === name);
    if (al) return albumRecord(z, al);
    return { recordName: name, reason: 'Record not found', serverErrorCode: 'NOT_FOUND' };
  };

  const handleCk = (
    db: Db,
    sub: string,
    body: Record<string, unknown>,
    log: RequestLogEntry,
  ): unknown => {
    switch (sub) {
      case 'zones/list':
      case 'changes/database': {
        const zones: ZoneLibrary[] = [];
        if (db === 'private') zones.push(primary);
        if (shared && (db === 'private') === (sharedRole === 'owner')) zones.push(shared);
        const dbToken = Buffer.from(`DB:${db}:${zones.reduce((s, z) => s + z.seq, 0)}`).toString(
          'base64',
        );
        const list = [
          ...zones.map((z) => ({ zoneID: zoneId(z), syncToken: syncToken(z), deleted: false })),
          ...(db === 'private'
            ? [
                {
                  zoneID: { zoneName: decoyZone, ownerRecordName, zoneType: 'REGULAR_CUSTOM_ZONE' },
                  deleted: false,
                },
              ]
            : []),
        ];
        if (sub === 'changes/database' && body.syncToken === dbToken)
          return { moreComing: false, syncToken: dbToken, zones: [] };
        return { moreComing: false, syncToken: dbToken, zones: list };
      }
      case 'records/query':
        return runQuery(db, body, log);
      case 'internal/records/query/batch': {
        const batch = Array.isArray(body.batch)
          ? (body.batch as Array<Record<string, unknown>>)
          : [];
        return { batch: batch.map((q) => runQuery(db, q, log)) };
      }
      case 'records/modify': {
        // §4.1: only the trash move (isDeleted = 1 on a CPLAsset) is emulated.
        const z = zoneOf(db, (body.zoneID as { zoneName?: unknown } | undefined)?.zoneName);
        if (z === 'decoy') throw ckError(400, 'BAD_REQUEST', 'Index has invalid data');
        const ops = Array.isArray(body.operations)
          ? (body.operations as Array<{
              operationType?: unknown;
              record?: Record<string, unknown>;
            }>)
          : [];
        if (ops.length === 0 || ops.length > 200)
          throw ckError(400, 'BAD_REQUEST', 'operations must hold 1 to 200 entries');
        return {
          records: ops.map((op) => {
            const rec = op.record ?? {};
            const name = String(rec.recordName ?? '');
            const a = z.byAssetId.get(name);
            const fields = (rec.fields ?? {}) as Record<string, { value?: unknown }>;
            if (op.operationType !== 'update' || rec.recordType !== 'CPLAsset')
              return {
                recordName: name,
                serverErrorCode: 'BAD_REQUEST',
                reason: 'unsupported operation',
              };
            if (!a || a.purged)
              return { recordName: name, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' };
            if (rec.recordChangeTag !== a.assetTag.toString(36))
              return {
                recordName: name,
                serverErrorCode: 'CONFLICT',
                reason: 'record to insert already exists or change tag is stale',
              };
            if (fields.isDeleted?.value !== 1)
              return {
                recordName: name,
                serverErrorCode: 'BAD_REQUEST',
                reason: 'only isDeleted = 1 is emulated',
              };
            if (!a.deleted) z.deleteAsset(a.assetId);
            return assetRecord(
              z,
              a,
              Array.isArray(body.desiredKeys) ? (body.desiredKeys as string[]) : undefined,
            );
          }),
        };
      }
      case 'records/lookup': {
        const z = zoneOf(db, (body.zoneID as { zoneName?: unknown } | undefined)?.zoneName);
        if (z === 'decoy') throw ckError(400, 'BAD_REQUEST', 'Index has invalid data');
        const recs = Array.isArray(body.records)
          ? (body.records as Array<{ recordName?: unknown }>)
          : [];
        if (recs.length > 200)
          throw ckError(400, 'BAD_REQUEST', "array 'records' length is greater than max size");
        return { records: recs.map((r) => findRecord(z, String(r.recordName))) };
      }
      case 'changes/zone': {
        const reqZones = Array.isArray(body.zones)
          ? (body.zones as Array<Record<string, unknown>>)
          : [];
        return {
          zones: reqZones.map((rz) => {
            const zid = rz.zoneID as { zoneName?: unknown } | undefined;
            let z: ZoneLibrary | 'decoy';
            try {
              z = zoneOf(db, zid?.zoneName);
            } catch {
              return {
                zoneID: zid,
                serverErrorCode: 'ZONE_NOT_FOUND',
                reason: 'Zone does not exist',
              };
            }
            if (z === 'decoy')
              return {
                zoneID: zid,
                serverErrorCode: 'BAD_REQUEST',
                reason: 'Zone does not support sync',
              };
            const limit = Math.min(Number(rz.resultsLimit ?? 200), 200);
            let since = 0;
            if (rz.syncToken === '')
              return { zoneID: zoneId(z), syncToken: syncToken(z), moreComing: false, records: [] };
            if (rz.syncToken !== undefined) {
              const m = /^CK1:(.+):(\d+)$/.exec(
                Buffer.from(String(rz.syncToken), 'base64').toString('utf8'),
              );
              if (!m || m[1] !== z.opts.zone || Number(m[2]) > z.seq) {
                return {
                  zoneID: zoneId(z),
                  serverErrorCode: 'BAD_REQUEST',
                  reason: 'Unknown sync continuation type',
                };
              }
              since = Number(m[2]);
            }
            const { keys, last, more } = z.changesSince(since, limit);
            return {
              zoneID: zoneId(z),
              syncToken: syncToken(z, last),
              moreComing: more,
              records: keys.map((k) => recordForKey(z, k)),
            };
          }),
        };
      }
      default:
        throw ckError(404, 'NOT_FOUND', `no such endpoint ${sub}`);
    }
  };

  // ------------------------------------------------------------ auth hosts

  const accountBody = (trusted: boolean) => ({
    dsInfo: {
      dsid,
      hsaVersion: 2,
      hasICloudQualifyingDevice: true,
      isWebAccessAllowed: true,
      appleId,
      countryCode: 'USA',
      fullName: 'Photo User',
    },
    hsaChallengeRequired: !trusted,
    hsaTrustedBrowser: trusted,
    iCDPEnabled: false,
    isExtendedLogin: true,
    pcsEnabled: true,
    termsUpdateNeeded: false,
    webservices: {
      ckdatabasews: { url: origin('ckdatabasews'), pcsRequired: true, status: 'active' },
      photosupload: { url: origin('photosupload'), status: 'active' },
      uploadimagews: { url: origin('uploadimagews'), status: 'active' },
    },
  });

  const authSessionOf = (req: IncomingMessage): AuthSession => {
    const id = String(req.headers['x-apple-id-session-id'] ?? '');
    const scnt = String(req.headers['scnt'] ?? '');
    const s = authSessions.get(id);
    if (!s || s.scnt !== scnt)
      throw serviceError(401, '-20101', 'Missing or stale scnt / X-Apple-ID-Session-Id');
    return s;
  };

  const issueSessionToken = (s: AuthSession, trusted: boolean): string => {
    const token = randomBytes(24).toString('base64');
    sessionTokens.set(token, { appleId: s.appleId, trusted, valid: true });
    return token;
  };

  const checkCode = (s: AuthSession, code: unknown) => {
    if (s.locked) {
      throw new HttpError(400, {
        service_errors: [
          {
            code: '-21669',
            message: 'Too many verification codes have been entered. Enter your password again.',
          },
        ],
        securityCode: { securityCodeLocked: true, tooManyCodesValidated: true },
      });
    }
    if (s.code === undefined || String(code) !== s.code) {
      s.attempts++;
      if (s.attempts >= codeAttemptLimit) s.locked = true;
      throw new HttpError(400, {
        service_errors: [
          {
            code: '-21669',
            message: 'Incorrect verification code.',
            title: 'Incorrect Verification Code',
          },
        ],
        securityCode: { securityCodeLocked: s.locked, tooManyCodesValidated: s.locked },
      });
    }
    s.verified = true;
    s.code = undefined;
  };

  const newCode = (s: AuthSession): string => {
    const code = String(100000 + (randomBytes(4).readUInt32BE(0) % 900000));
    s.code = code;
    lastCode = code;
    return code;
  };

  const handleIdmsa = async (
    req: IncomingMessage,
    res: ServerResponse,
    sub: string,
    method: string,
  ): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> => {
    if (
      req.headers['x-apple-widget-key'] !== WIDGET_KEY ||
      req.headers['x-apple-oauth-client-id'] !== WIDGET_KEY
    ) {
      throw serviceError(
        400,
        '-20210',
        'Missing or wrong X-Apple-Widget-Key / X-Apple-OAuth-Client-Id',
      );
    }
    const sessionHeaders = (s: AuthSession) => {
      s.scnt = randomBytes(12).toString('hex'); // rotates: clients must echo the latest one
      return { scnt: s.scnt, 'X-Apple-ID-Session-Id': s.id, 'X-Apple-ID-Account-Country': 'USA' };
    };
    const key = `${method} ${sub}`;
    if (key === 'POST signin/init') {
      const body = parseJson(await readBody(req));
      const accountName = String(body.accountName ?? '');
      const protocols = Array.isArray(body.protocols) ? (body.protocols as string[]) : [];
      if (!body.a || !accountName || !protocols.includes(protocol)) {
        throw serviceError(400, '-20209', 'Malformed signin/init payload');
      }
      const known = accountName.toLowerCase() === appleId.toLowerCase();
      const srvVerifier = known ? verifier : computeVerifier(randomUUID(), salt, 1, protocol);
      const server = new SrpServer(srvVerifier);
      const s: AuthSession = {
        id: randomUUID(),
        scnt: '',
        appleId: accountName,
        verified: false,
        attempts: 0,
        locked: false,
      };
      authSessions.set(s.id, s);
      const c = `d-${randomUUID()}:PRN`;
      srpPending.set(c, {
        appleId: accountName,
        server,
        salt,
        clientA: Buffer.from(String(body.a), 'base64'),
        authSessionId: s.id,
      });
      // Apple sometimes labels this JSON as text/html: clients must parse leniently.
      res.setHeader('Content-Type', 'text/html;charset=UTF-8');
      return {
        status: 200,
        headers: sessionHeaders(s),
        body: {
          iteration: iterations,
          salt: salt.toString('base64'),
          protocol,
          b: server.publicB.toString('base64'),
          c,
        },
      };
    }
    if (key === 'POST signin/complete') {
      const body = parseJson(await readBody(req));
      const pending = srpPending.get(String(body.c ?? ''));
      if (!pending || !body.m1 || !body.m2)
        throw serviceError(400, '-20209', 'Malformed signin/complete payload');
      srpPending.delete(String(body.c));
      const s = authSessions.get(pending.authSessionId)!;
      const m2 = pending.server.verify({
        accountName: String(body.accountName ?? ''),
        salt: pending.salt,
        clientA: pending.clientA,
        m1: Buffer.from(String(body.m1), 'base64'),
      });
      if (
        !m2 ||
        pending.appleId.toLowerCase() !== appleId.toLowerCase() ||
        !m2.equals(Buffer.from(String(body.m2), 'base64'))
      ) {
        throw serviceError(401, '-20101', 'Your Apple ID or password was incorrect.');
      }
      if (accountLocked)
        throw serviceError(403, '-20209', 'This Apple ID has been locked for security reasons.');
      const headers = sessionHeaders(s);
      if (options.fidoOnly) {
        return {
          status: 409,
          headers: { ...headers, 'X-Apple-Session-Token': issueSessionToken(s, false) },
          body: { authType: 'hsa2', fsaChallenge: { challenge: 'x' }, keyNames: ['YubiKey'] },
        };
      }
      const offered = Array.isArray(body.trustTokens) ? (body.trustTokens as string[]) : [];
      const trusted = offered.some((t) => {
        const tt = trustTokens.get(t);
        return tt !== undefined && tt.valid && tt.expiresAt > now();
      });
      if (trusted) s.verified = true;
      return {
        status: trusted ? 200 : 409,
        headers: { ...headers, 'X-Apple-Session-Token': issueSessionToken(s, trusted) },
        body: { authType: 'hsa2' },
      };
    }
    if (key === 'POST repair/complete')
      return { status: 204, headers: sessionHeaders(authSessionOf(req)) };
    const s = authSessionOf(req);
    switch (key) {
      case 'GET ':
        return {
          status: 200,
          headers: sessionHeaders(s),
          body: {
            trustedPhoneNumbers: [
              {
                id: 1,
                numberWithDialCode: '+1 •••',
                obfuscatedNumber: '(•••) •••-••12',
                pushMode: 'sms',
                lastTwoDigits: '12',
              },
            ],
            securityCode: {
              length: 6,
              tooManyCodesSent: false,
              tooManyCodesValidated: s.locked,
              securityCodeLocked: s.locked,
            },
            authenticationType: 'hsa2',
            recoveryUrl: 'https://iforgot.apple.com/phone/add',
            hsa2Account: true,
          },
        };
      case 'PUT verify/trusteddevice/securitycode':
        newCode(s);
        return {
          status: 202,
          headers: sessionHeaders(s),
          body: { trustedDeviceCount: 1, securityCode: { length: 6 } },
        };
      case 'POST verify/trusteddevice/securitycode': {
        const body = parseJson(await readBody(req));
        checkCode(s, (body.securityCode as { code?: unknown } | undefined)?.code);
        return { status: 204, headers: sessionHeaders(s) };
      }
      case 'PUT verify/phone':
        newCode(s);
        return {
          status: 200,
          headers: sessionHeaders(s),
          body: { trustedPhoneNumber: { id: 1 }, securityCode: { length: 6 } },
        };
      case 'POST verify/phone/securitycode': {
        const body = parseJson(await readBody(req));
        checkCode(s, (body.securityCode as { code?: unknown } | undefined)?.code);
        return { status: 200, headers: sessionHeaders(s), body: {} };
      }
      case 'GET 2sv/trust': {
        if (!s.verified) throw serviceError(401, '-20101', 'Second factor not verified');
        const trust = randomBytes(32).toString('base64');
        trustTokens.set(trust, { expiresAt: now() + trustTtlMs, valid: true });
        return {
          status: 204,
          headers: {
            ...sessionHeaders(s),
            'X-Apple-TwoSV-Trust-Token': trust,
            'X-Apple-Session-Token': issueSessionToken(s, true),
          },
        };
      }
      default:
        throw serviceError(404, '-1', `no such idmsa endpoint ${key}`);
    }
  };

  const webCookies = (trusted: boolean): string[] => {
    const token = randomBytes(24).toString('hex');
    webSessions.set(token, { appleId, trusted, valid: true, deadStatus: 421 });
    const attrs = cookieAttrs('setup');
    const hex = (n: number) => randomBytes(n).toString('hex');
    return [
      `X-APPLE-WEBAUTH-TOKEN="v=2:t=${token}"; ${attrs}`,
      `X-APPLE-WEBAUTH-USER="v=1:s=0:d=${dsid}"; Max-Age=2592000; ${attrs}`,
      `X-APPLE-WEBAUTH-LOGIN="v=1:t=${hex(12)}"; ${attrs}`,
      `X-APPLE-WEBAUTH-VALIDATE="v=1:t=${hex(12)}"; ${attrs}`,
      `X-APPLE-DS-WEB-SESSION-TOKEN="${hex(12)}"; ${attrs}`,
      `X-APPLE-WEBAUTH-HSA-TRUST="${hex(8)}"; Max-Age=2592000; ${attrs}`,
      ...pcsCookies(),
    ];
  };

  /** The PCS cookies accountLogin sets when `pcsRequired` (and requestPCS hands out again). */
  const pcsCookies = (): string[] =>
    ['Photos', 'Sharing'].map(
      (app) =>
        `X-APPLE-WEBAUTH-PCS-${app}="${randomBytes(16).toString('base64')}"; Max-Age=3600; ${cookieAttrs('setup')}`,
    );

  /** Expires every web-session cookie (logout). */
  const clearedCookies = (): string[] =>
    [
      'X-APPLE-WEBAUTH-TOKEN',
      'X-APPLE-WEBAUTH-USER',
      'X-APPLE-WEBAUTH-LOGIN',
      'X-APPLE-WEBAUTH-VALIDATE',
      'X-APPLE-DS-WEB-SESSION-TOKEN',
      'X-APPLE-WEBAUTH-PCS-Photos',
      'X-APPLE-WEBAUTH-PCS-Sharing',
    ].map((name) => `${name}=""; Max-Age=0; ${cookieAttrs('setup')}`);

  const webSessionOf = (req: IncomingMessage): WebSession | undefined => {
    const raw = parseCookies(req.headers.cookie).get('X-APPLE-WEBAUTH-TOKEN');
    const m = raw ? /t=([0-9a-f]+)/.exec(raw) : null;
    return m ? webSessions.get(m[1]!) : undefined;
  };

  const handleSetup = async (req: IncomingMessage, res: ServerResponse, sub: string) => {
    if (req.method !== 'POST') throw new HttpError(405, { error: 'method not allowed' });
    const body = parseJson(await readBody(req));
    if (accountLocked) throw new HttpError(403, { success: false, error: 'Account locked' });
    if (sub === 'accountLogin') {
      const st = sessionTokens.get(String(body.dsWebAuthToken ?? ''));
      if (!st || !st.valid)
        throw new HttpError(421, { success: false, error: 'Invalid global session' });
      res.setHeader('Set-Cookie', webCookies(st.trusted));
      return { status: 200, body: accountBody(st.trusted) };
    }
    if (sub === 'validate') {
      const ws = webSessionOf(req);
      if (!ws || !ws.valid)
        throw new HttpError(421, { success: false, error: 'Missing X-APPLE-WEBAUTH-USER cookie' });
      return { status: 200, body: accountBody(ws.trusted) };
    }
    if (sub === 'requestPCS' || sub === 'requestWebAccessState' || sub === 'logout') {
      const ws = webSessionOf(req);
      if (!ws || !ws.valid)
        throw new HttpError(421, { success: false, error: 'Missing X-APPLE-WEBAUTH-USER cookie' });
      if (sub === 'requestWebAccessState') {
        return {
          status: 200,
          body: {
            isDeviceConsentedForPCS: true,
            isICDRSDisabled: false,
            isDeviceConsentNotificationSent: false,
          },
        };
      }
      if (sub === 'requestPCS') {
        // Without ADP the consent is implicit: the cookies come at once.
        res.setHeader('Set-Cookie', pcsCookies());
        return {
          status: 200,
          body: { isWebAccessAllowed: true, status: 'success', message: 'Cookies attached.' },
        };
      }
      ws.valid = false;
      ws.deadStatus = 421;
      res.setHeader('Set-Cookie', clearedCookies());
      return { status: 200, body: { success: true } };
    }
    throw new HttpError(404, { error: `no such setup endpoint ${sub}` });
  };

  // ----------------------------------------------------------------- CDN

  const handleCdn = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: RequestLogEntry,
  ) => {
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
    log.range = req.headers.range;
    const token = url.pathname.split('/')[2] ?? '';
    const e = Number(url.searchParams.get('e'));
    const x = Number(url.searchParams.get('x'));
    const sig = createHmac('sha256', urlSecret)
      .update(`${token}|${e}|${x}`)
      .digest('hex')
      .slice(0, 22);
    if (url.searchParams.get('s') !== sig) throw new HttpError(403, 'Forbidden');
    if (x !== urlEpoch || e * 1000 <= now()) throw new HttpError(410, 'Gone');
    const [zoneName, idx, variant, gen] = Buffer.from(token, 'base64url')
      .toString('utf8')
      .split('|') as [string, string, ResourceVariant, string];
    const z = zoneName === primary.opts.zone ? primary : shared;
    const at = z?.assets[Number(idx)];
    const a = at?.index === Number(idx) ? at : z?.assets.find((x) => x.index === Number(idx));
    if (!z || !a || a.purged) throw new HttpError(404, 'Not Found');
    const size =
      variant === 'resJPEGFull' ? z.editSizeOf(a.index, Number(gen)) : (a.sizes[variant] ?? 0);
    const key = resourceKey(z.opts.seed, z.opts.zone, a.index, variant, Number(gen));
    // Uploaded originals are read from their file; generated ones from the keystream.
    const fh = a.upload && variant === 'resOriginal' ? await open(a.upload.file) : undefined;
    const bytesAt = async (pos: number, n: number): Promise<Buffer> => {
      if (!fh) return resourceBytes(key, pos, n);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      return buf.subarray(0, bytesRead);
    };
    try {
      await serveBytes(req, res, log, size, bytesAt);
    } finally {
      await fh?.close();
    }
  };

  const serveBytes = async (
    req: IncomingMessage,
    res: ServerResponse,
    log: RequestLogEntry,
    size: number,
    bytesAt: (pos: number, n: number) => Promise<Buffer>,
  ) => {
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    let status = 200;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m) throw new HttpError(416, 'Bad range');
      start = Number(m[1]);
      if (m[2]) end = Math.min(Number(m[2]), size - 1);
      if (start >= size) {
        throw new HttpError(416, 'Range Not Satisfiable', { 'Content-Range': `bytes */${size}` });
      }
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
    const length = Math.max(0, end - start + 1);
    res.writeHead(status, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(length),
      'Accept-Ranges': 'bytes',
    });
    log.status = status;
    const myCut = cut;
    cut = undefined;
    let pos = start;
    let sent = 0;
    while (pos <= end) {
      let n = Math.min(64 * 1024, end - pos + 1);
      if (myCut && sent + n > myCut.afterBytes) n = myCut.afterBytes - sent;
      if (n > 0) {
        const chunk = await bytesAt(pos, n);
        pos += n;
        sent += n;
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
      }
      if (myCut && sent >= myCut.afterBytes) {
        if (myCut.expireUrls) urlEpoch++;
        await new Promise((r) => setTimeout(r, 20));
        res.socket?.destroy();
        return;
      }
    }
    res.end();
  };

  // ---------------------------------------------------------------- upload

  /**
   * The §4.2 flow. Where the brief is silent the emulator chooses (and the connector must cope):
   * - photosupload calls need the web session like CloudKit (cookies + `dsid` query): 401
   *   AUTHENTICATION_FAILED without it, 421 once the session is dead.
   * - createUploadUrl accepts only `PrimarySync` (400 BAD_REQUEST otherwise: the Shared Library
   *   and other zones are not upload targets), sizes must be integers 1..maxUploadBytes (400), and a
   *   size above the storage left answers 413 `QUOTA_EXCEEDED`.
   * - Content URLs are self-authorizing (no cookies, like the CDN), one-time (410 once used or
   *   after an hour, 404 unknown) and take exactly the declared bytes (400 on more or fewer).
   *   Any Content-Type is accepted there: the type is decided at putAsset from the file name.
   * - putAsset accepts photo and video types (`UPLOAD_TYPES`); any other extension answers that
   *   file's `response.status` 415. A file whose bytes (SHA-256 here, MMCS fingerprints at
   *   Apple) match a live asset answers 409 with that asset's record names; a trashed one does not
   *   count. The capture date is `lastModDate` (the emulator reads no EXIF) in the zone
   *   `timeZoneOffset` gives (minutes west of UTC, like JavaScript's getTimezoneOffset).
   * - New records appear (query, lookup, changes/zone) after `uploadIndexingDelayMs`.
   */
  const UPLOAD_TYPES: Record<string, AssetKind> = {
    HEIC: 'jpeg',
    HEIF: 'jpeg',
    JPG: 'jpeg',
    JPEG: 'jpeg',
    PNG: 'png',
    GIF: 'png',
    TIF: 'png',
    TIFF: 'png',
    WEBP: 'png',
    DNG: 'dng',
    MOV: 'mov',
    MP4: 'mov',
    M4V: 'mov',
  };
  const maxUploadBytes = options.maxUploadBytes ?? 16 * 1024 ** 3;
  const uploadDelayMs = options.uploadIndexingDelayMs ?? 0;
  let uploadDir: string | undefined;
  let storageLeft: number | undefined;
  const uploadUrls = new Map<
    string,
    { clientId: string; size: number; expiresAt: number; used: boolean }
  >();
  const receipts = new Map<
    string,
    { file: string; size: number; sha256: string; fileChecksum: string }
  >();
  const pendingUploads: Array<{ asset: AssetState; readyAt: number; jobId: string }> = [];
  const uploadJobs = new Map<string, AssetState>();
  const uploadedBySha = new Map<string, AssetState>();

  const promoteUploads = () => {
    for (let i = 0; i < pendingUploads.length;) {
      const p = pendingUploads[i]!;
      if (p.readyAt <= now()) {
        primary.commit(p.asset);
        pendingUploads.splice(i, 1);
      } else i++;
    }
  };

  const requireWebSession = (req: IncomingMessage, url: URL) => {
    const ws = webSessionOf(req);
    if (!ws) throw ckError(401, 'AUTHENTICATION_FAILED', 'no auth method found');
    if (accountLocked)
      throw ckError(403, 'ACCESS_DENIED', 'private db access disabled for this account');
    if (!ws.valid) {
      throw ws.deadStatus === 421
        ? new HttpError(421, { error: 'Missing X-APPLE-WEBAUTH-USER cookie' })
        : ckError(401, 'AUTHENTICATION_FAILED', 'Request failed with http status code 401');
    }
    if (!ws.trusted) throw ckError(401, 'AUTHENTICATION_FAILED', 'hsa challenge required');
    // The web app sends ?dsid=, independent clients do not; the cookies name the account.
    if (url.searchParams.has('dsid') && url.searchParams.get('dsid') !== dsid)
      throw ckError(400, 'BAD_REQUEST', 'wrong dsid');
  };

  const liveUploadOf = (sha: string): AssetState | undefined => {
    const a = uploadedBySha.get(sha);
    return a && !a.deleted && !a.purged ? a : undefined;
  };

  const handlePhotosUpload = async (
    req: IncomingMessage,
    url: URL,
    sub: string,
  ): Promise<unknown> => {
    if (req.method !== 'POST') throw ckError(405, 'BAD_REQUEST', 'POST only');
    requireWebSession(req, url);
    const body = parseJson(await readBody(req));
    if (sub === 'uploadStatus') {
      const ids = Array.isArray(body.uploadJobIds) ? (body.uploadJobIds as unknown[]) : undefined;
      if (!ids) throw ckError(400, 'BAD_REQUEST', 'uploadJobIds must be an array');
      return Object.fromEntries(
        ids.map((id) => {
          const a = uploadJobs.get(String(id));
          if (!a) return [String(id), { errorCode: 404 }];
          const pending = pendingUploads.some((p) => p.asset === a);
          return [String(id), { progress: pending ? 50 : 100 }];
        }),
      );
    }
    if (body.zoneName !== 'PrimarySync')
      throw ckError(
        400,
        'BAD_REQUEST',
        `uploads go to PrimarySync only, not '${String(body.zoneName)}'`,
      );
    if (sub === 'createUploadUrl') {
      const assets = body.assets;
      if (!assets || typeof assets !== 'object' || Array.isArray(assets))
        throw ckError(400, 'BAD_REQUEST', 'assets must be an object of client id -> size');
      const list = Object.entries(assets as Record<string, unknown>);
      if (list.length === 0) throw ckError(400, 'BAD_REQUEST', 'assets is empty');
      let total = 0;
      for (const [id, size] of list) {
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
          throw ckError(400, 'BAD_REQUEST', `asset ${id}: size must be a positive integer`);
        if (size > maxUploadBytes)
          throw ckError(
            400,
            'BAD_REQUEST',
            `asset ${id}: ${size} bytes is more than the upload limit of ${maxUploadBytes} bytes`,
          );
        total += size;
      }
      if (storageLeft !== undefined && total > storageLeft)
        throw ckError(413, 'QUOTA_EXCEEDED', 'iCloud storage is full');
      const uploadUrlsOut: Record<string, string> = {};
      for (const [id, size] of list) {
        const token = randomBytes(18).toString('base64url');
        uploadUrls.set(token, {
          clientId: id,
          size: size as number,
          expiresAt: now() + 3_600_000,
          used: false,
        });
        uploadUrlsOut[id] = `${origin('photosupload')}/mmcs/put/${token}?dsid=${dsid}`;
      }
      return { uploadUrls: uploadUrlsOut };
    }
    if (sub === 'putAsset') {
      const files = body.files;
      if (typeof body.importGroup !== 'string' || !body.importGroup)
        throw ckError(400, 'BAD_REQUEST', 'importGroup is required');
      if (typeof body.localTimeZoneId !== 'string')
        throw ckError(400, 'BAD_REQUEST', 'localTimeZoneId is required');
      if (!Array.isArray(files) || files.length === 0)
        throw ckError(400, 'BAD_REQUEST', 'files must be a non-empty array');
      return (files as Array<Record<string, unknown>>).map((f) => {
        const name = f.fileName;
        const sf = f.singleFileUploadRequest as Record<string, unknown> | undefined;
        if (typeof name !== 'string' || !name || name.includes('/'))
          throw ckError(400, 'BAD_REQUEST', 'fileName is required');
        if (typeof f.lastModDate !== 'number' || !Number.isFinite(f.lastModDate))
          throw ckError(400, 'BAD_REQUEST', 'lastModDate must be ms since epoch');
        if (typeof f.timeZoneOffset !== 'number')
          throw ckError(400, 'BAD_REQUEST', 'timeZoneOffset must be a number of minutes');
        const r = receipts.get(String(sf?.receipt ?? ''));
        if (!r || sf?.fileChecksum !== r.fileChecksum || sf?.size !== r.size)
          throw ckError(400, 'BAD_REQUEST', 'singleFileUploadRequest is not one this host issued');
        const jobId = randomUUID();
        const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toUpperCase() : '';
        const kind = UPLOAD_TYPES[ext];
        if (!kind)
          return {
            uploadJobId: jobId,
            response: { status: 415, errorMessage: `Unsupported file type '${ext || name}'` },
          };
        const existing =
          liveUploadOf(r.sha256) ??
          pendingUploads.find((p) => p.asset.upload?.sha256 === r.sha256)?.asset;
        if (existing)
          return {
            uploadJobId: jobId,
            cplMaster: existing.masterId,
            cplAsset: existing.assetId,
            response: { status: 409, errorMessage: 'Duplicate asset' },
          };
        const asset = primary.prepare({
          filename: name,
          filenameType: 'ENCRYPTED_BYTES',
          kind,
          assetDate: f.lastModDate,
          addedDate: now(),
          modifiedAt: now(),
          tzOffset: -f.timeZoneOffset * 60,
          sizes: { resOriginal: r.size },
          upload: { file: r.file, ext, sha256: r.sha256 },
        });
        receipts.delete(String(sf?.receipt));
        if (storageLeft !== undefined) storageLeft -= r.size;
        uploadedBySha.set(r.sha256, asset);
        uploadJobs.set(jobId, asset);
        pendingUploads.push({ asset, readyAt: now() + uploadDelayMs, jobId });
        promoteUploads();
        return {
          uploadJobId: jobId,
          cplMaster: asset.masterId,
          cplAsset: asset.assetId,
          response: { status: 200 },
        };
      });
    }
    throw ckError(404, 'NOT_FOUND', `no such photosupload endpoint ${sub}`);
  };

  /** `POST <one-time URL>` with the raw bytes, streamed to a temp file. */
  const handleContentPut = async (req: IncomingMessage, url: URL, log: RequestLogEntry) => {
    if (req.method !== 'POST') throw new HttpError(405, { error: 'method not allowed' });
    const token = url.pathname.slice('/mmcs/put/'.length);
    const slot = uploadUrls.get(token);
    if (!slot) throw new HttpError(404, { error: 'Not Found' });
    if (slot.used || slot.expiresAt <= now()) throw new HttpError(410, { error: 'Gone' });
    slot.used = true;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) !== slot.size)
      throw new HttpError(400, {
        error: `Content-Length ${declared} differs from the ${slot.size} bytes announced`,
      });
    uploadDir ??= mkdtempSync(join(tmpdir(), 'icloud-emu-upload-'));
    const file = join(uploadDir, token);
    const out = createWriteStream(file);
    const hash = createHash('sha256');
    let received = 0;
    try {
      for await (const c of req) {
        const chunk = c as Buffer;
        received += chunk.length;
        if (received > slot.size) throw new Error('too many bytes');
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    } catch (e) {
      out.destroy();
      await rm(file, { force: true });
      if (received > slot.size)
        throw new HttpError(400, { error: `more than the ${slot.size} bytes announced` });
      throw e;
    }
    await new Promise<void>((resolve, reject) =>
      out.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
    log.bytes = received;
    if (received !== slot.size) {
      await rm(file, { force: true });
      throw new HttpError(400, {
        error: `received ${received} bytes, ${slot.size} were announced`,
      });
    }
    const sha = hash.digest('hex');
    const fileChecksum = 'A' + Buffer.from(sha, 'hex').toString('base64').slice(0, 27);
    const receipt = createHmac('sha256', urlSecret).update(`${token}|${sha}`).digest('base64');
    receipts.set(receipt, { file, size: received, sha256: sha, fileChecksum });
    return {
      singleFile: {
        fileChecksum,
        referenceChecksum: checksum('ref', sha),
        size: received,
        wrappingKey: checksum('wk', sha) + '==',
        receipt,
      },
    };
  };

  // ---------------------------------------------------------------- server

  const takeFault = (scope: FaultScope): Fault | undefined => {
    const f = faults.find((x) => x.remaining > 0 && (x.scope === 'any' || x.scope === scope));
    if (f) f.remaining--;
    return f;
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (body === undefined || status === 204) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    if (!res.hasHeader('Content-Type')) {
      res.setHeader(
        'Content-Type',
        typeof body === 'string' ? 'text/plain' : 'application/json;charset=UTF-8',
      );
    }
    res.writeHead(status);
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const p = url.pathname;
    const log: RequestLogEntry = { method, path: p, endpoint: `? ${p}`, status: 0 };
    entries.push(log);
    try {
      let scope: FaultScope;
      if (p.startsWith('/appleauth/auth')) {
        scope = 'idmsa';
        log.endpoint = `idmsa ${method} /${p.slice('/appleauth/auth'.length).replace(/^\//, '')}`;
      } else if (p.startsWith('/setup/ws/1/')) {
        scope = 'setup';
        log.endpoint = `setup /${p.slice('/setup/ws/1/'.length)}`;
      } else if (p.startsWith(CK_PREFIX)) {
        scope = 'ck';
        log.endpoint = `ck ${p.slice(CK_PREFIX.length)}`;
      } else if (p.startsWith('/B/')) {
        scope = 'cdn';
        log.endpoint = 'cdn GET';
      } else if (p.startsWith('/photosupload/')) {
        scope = 'upload';
        log.endpoint = `upload ${p.slice('/photosupload/'.length)}`;
      } else if (p.startsWith('/mmcs/put/')) {
        scope = 'upload';
        log.endpoint = 'upload content';
      } else if (p === '/upload') {
        // uploadimagews, the old single-call upload: withdrawn on 2026-08-25.
        log.endpoint = 'uploadimagews upload';
        throw new HttpError(410, { error: 'Gone' });
      } else throw new HttpError(404, { error: 'unknown host/path' });
      promoteUploads();

      const fault = takeFault(scope);
      if (fault) {
        const body =
          scope === 'ck' || scope === 'upload'
            ? {
                uuid: randomUUID(),
                serverErrorCode: fault.status === 503 ? 'THROTTLED' : 'TRY_AGAIN_LATER',
                reason: 'Rate limited',
              }
            : fault.status === 503
              ? 'Service Temporarily Unavailable: temporarily refusing to serve'
              : { error: 'Too Many Requests' };
        throw new HttpError(
          fault.status,
          body,
          fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : {},
        );
      }

      if (scope === 'idmsa') {
        const sub = p.slice('/appleauth/auth'.length).replace(/^\//, '');
        const r = await handleIdmsa(req, res, sub, method);
        log.status = r.status;
        // idmsa keeps its own session cookie, which clients store and send back (section 1.1).
        const aasp =
          parseCookies(req.headers.cookie).get('aasp') ??
          randomBytes(16).toString('hex').toUpperCase();
        res.setHeader('Set-Cookie', `aasp=${aasp}; ${cookieAttrs('idmsa')}`);
        send(res, r.status, r.body, r.headers);
        return;
      }
      if (scope === 'setup') {
        const r = await handleSetup(req, res, p.slice('/setup/ws/1/'.length));
        log.status = r.status;
        send(res, r.status, r.body);
        return;
      }
      if (scope === 'cdn') {
        await handleCdn(req, res, url, log);
        return;
      }
      if (scope === 'upload') {
        const out = p.startsWith('/mmcs/put/')
          ? await handleContentPut(req, url, log)
          : await handlePhotosUpload(req, url, p.slice('/photosupload/'.length));
        log.status = 200;
        send(res, 200, out);
        return;
      }
      // CloudKit
      if (method !== 'POST') throw ckError(405, 'BAD_REQUEST', 'POST only');
      const rest = p.slice(CK_PREFIX.length);
      const db = rest.split('/')[0];
      if (db !== 'private' && db !== 'shared') throw ckError(404, 'NOT_FOUND', 'unknown database');
      const ws = webSessionOf(req);
      if (!ws) throw ckError(401, 'AUTHENTICATION_FAILED', 'no auth method found');
      if (accountLocked)
        throw ckError(403, 'ACCESS_DENIED', 'private db access disabled for this account');
      if (!ws.valid) {
        throw ws.deadStatus === 421
          ? new HttpError(421, { error: 'Missing X-APPLE-WEBAUTH-USER cookie' })
          : ckError(401, 'AUTHENTICATION_FAILED', 'Request failed with http status code 401');
      }
      if (!ws.trusted) throw ckError(401, 'AUTHENTICATION_FAILED', 'hsa challenge required');
      if (url.searchParams.has('dsid') && url.searchParams.get('dsid') !== dsid)
        throw ckError(400, 'BAD_REQUEST', 'wrong dsid');
      const body = parseJson(await readBody(req));
      const out = handleCk(db, rest.slice(db.length + 1), body, log);
      log.status = 200;
      send(res, 200, out);
    } catch (e) {
      if (e instanceof HttpError) {
        log.status = e.status;
        if (!res.headersSent) send(res, e.status, e.body, e.headers);
        else res.destroy();
        return;
      }
      log.status = 500;
      if (!res.headersSent) send(res, 500, { error: String(e) });
      else res.destroy();
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const addr = server.address() as AddressInfo;
  baseUrl = `http://${addr.address}:${addr.port}`;

  const zoneSel = (which?: 'primary' | 'shared') => {
    const z = which === 'shared' ? shared : primary;
    if (!z) throw new Error('the emulator has no shared library');
    return z;
  };

  const control: ICloudPhotosControl = {
    throttle: (o = {}) =>
      void faults.push({
        scope: o.scope ?? 'ck',
        status: o.status ?? 503,
        retryAfterSec: o.retryAfterSec ?? 1,
        remaining: o.count ?? 1,
      }),
    rateLimitNext: () =>
      void faults.push({ scope: 'any', status: 429, retryAfterSec: 1, remaining: 1 }),
    expireDownloadUrls: () => void urlEpoch++,
    cutNextDownload: (afterBytes, o = {}) => {
      cut = { afterBytes, expireUrls: o.expireUrls ?? false };
    },
    expireSession: (status = 421) => {
      for (const ws of webSessions.values()) {
        ws.valid = false;
        ws.deadStatus = status;
      }
      for (const st of sessionTokens.values()) st.valid = false;
    },
    expireTrustTokens: () => {
      for (const t of trustTokens.values()) t.valid = false;
    },
    lockAccount: (locked = true) => {
      accountLocked = locked;
    },
    lastSecurityCode: () => lastCode,
    setIndexingState: (s) => {
      indexingState = s;
    },
    advanceTime: (ms) => {
      clockOffset += ms;
    },
    addAsset: (o, which) => zoneSel(which).addAsset(o),
    editAsset: (id, which) => zoneSel(which).editAsset(id),
    deleteAsset: (id, o = {}) => zoneSel(o.zone).deleteAsset(id, o.purge ?? false),
    setStorageQuota: (bytes) => {
      storageLeft = bytes;
    },
    clearFaults: () => {
      faults.length = 0;
      cut = undefined;
    },
    finishIndexing: () => {
      for (const p of pendingUploads) p.readyAt = 0;
      promoteUploads();
    },
  };

  const emulatorHandle: Omit<ICloudPhotosEmulator, 'api'> = {
    baseUrl,
    authBaseUrl: `${origin('idmsa')}/appleauth/auth`,
    setupBaseUrl: `${origin('setup')}/setup/ws/1`,
    credentials: { appleId, password },
    control,
    requestLog,
    primary,
    shared,
    expectedBytes: (a, variant) => {
      if (a.upload && variant === 'resOriginal') return readFileSync(a.upload.file);
      const z = a.zone === primary.opts.zone ? primary : shared!;
      const gen = variant === 'resJPEGFull' ? a.editGen : 0;
      return resourceBytes(
        resourceKey(z.opts.seed, z.opts.zone, a.index, variant, gen),
        0,
        a.sizes[variant] ?? 0,
      );
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
  return { ...emulatorHandle, api: iCloudPhotosControlApi(emulatorHandle) };
}

/** Hidden (not deleted) assets by capture date: the Hidden album. */
function hiddenAssets(z: ZoneLibrary): AssetState[] {
  return z.assets
    .filter((a) => a.hidden && !a.deleted && !a.purged)
    .sort((x, y) => x.assetDate - y.assetDate || (x.assetId < y.assetId ? -1 : 1));
}

/** Deleted, not yet purged assets: Recently Deleted. */
function deletedAssets(z: ZoneLibrary): AssetState[] {
  return z.assets
    .filter((a) => a.deleted && !a.purged)
    .sort((x, y) => x.assetDate - y.assetDate || (x.assetId < y.assetId ? -1 : 1));
}
