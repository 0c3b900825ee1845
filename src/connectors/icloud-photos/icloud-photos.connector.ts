import type { Readable } from 'node:stream';
import type { Clock } from '../../common/clock.js';
import type { Capabilities } from '../capabilities.js';
import type {
  CallOptions,
  Change,
  ChangeFeed,
  ChangePage,
  Connector,
  Entry,
  ReadOptions,
  WriteMeta,
} from '../connector.js';
import {
  CursorExpiredError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  TransientError,
  UnsupportedError,
} from '../connector.errors.js';
import { Pacer } from '../pacer/pacer.js';
import { baseName, normalizePath } from '../path.js';
import type { CkChangesZoneResult, CkRecord } from './api/types.js';
import { ICloudAuthService } from './icloud-auth.service.js';
import { CloudKitClient } from './icloud-photos.client.js';
import { openDownload } from './icloud-photos.download.js';
import {
  ALBUMS,
  ALL_PHOTOS,
  PhotoLibrary,
  type AlbumNode,
  type LibraryMemoryOptions,
} from './icloud-photos.library.js';
import { ASSETS_PER_QUERY } from './icloud-photos.queries.js';
import {
  fileEntry,
  folderEntry,
  monthKey,
  shortId,
  type LibraryZone,
  type PhotoFile,
} from './icloud-photos.mapper.js';
import type { ICloudPhotosOptions } from './icloud-photos.options.js';
import type { ICloudSession } from './icloud-photos.session.js';
import { uploadPhoto } from './icloud-photos.upload.js';

export const ICLOUD_PHOTOS_CAPABILITIES: Capabilities = {
  // fileChecksum is an MMCS signature, not a hash of the bytes: sizes are all we can verify.
  hashes: [],
  rangedReads: true,
  changeFeed: true,
  serverSideCopy: false,
  writable: false,
  preservesModifiedTime: false,
  listPageSize: ASSETS_PER_QUERY,
};

/** With `experimentalUpload` on: write uploads into All Photos, remove moves to Recently Deleted. */
export const ICLOUD_PHOTOS_UPLOAD_CAPABILITIES: Capabilities = {
  ...ICLOUD_PHOTOS_CAPABILITIES,
  writable: true,
};

/** Signed CDN URLs live about an hour; refresh well before. */
const URL_MAX_AGE_MS = 45 * 60_000;

export const READ_ONLY_MESSAGE =
  'iCloud Photos is a read-only backup source: Apple offers no supported upload API (the old ' +
  'uploadimagews endpoint answers 410 Gone since August 2026 and its replacement is unproven), so a ' +
  'restore must target another location (a local folder or another cloud), or the account must ' +
  "turn on the 'Experimental upload' option.";

export interface ICloudPhotosDeps {
  session: ICloudSession;
  clock: Clock;
  saveSession(s: ICloudSession): Promise<void>;
  pacer?: Pacer;
  fetchImpl?: typeof fetch;
  /** Bounds of the listing index (where it spills to disk, how much stays in memory). */
  memory?: LibraryMemoryOptions;
}

interface Resolved {
  kind: 'folder' | 'file';
  path: string;
  file?: PhotoFile;
}

interface FeedCursor {
  v: 1;
  zones: Record<string, string>;
}

/**
 * iCloud Photos as a read-only tree:
 *   All Photos/<YYYY>/<MM>/<file>      personal library by capture month (photo's own time zone)
 *   Shared Library/<YYYY>/<MM>/<file>  the iCloud Shared Library, when the account has one
 *   Albums/[<folder>/]<album>/<file>   user albums (smart albums are left out)
 * File naming is documented on `nameFolder` (mapper). Change feed: CloudKit zone sync tokens.
 */
export class ICloudPhotosConnector implements Connector, ChangeFeed {
  readonly kind = 'icloud-photos';
  readonly capabilities: Capabilities;
  private readonly upload: boolean;
  private readonly webOrigin: string;
  private readonly client: CloudKitClient;
  private readonly library: PhotoLibrary;
  private readonly pacer: Pacer;
  private readonly fetchImpl: typeof fetch;

  constructor(
    options: ICloudPhotosOptions,
    private readonly deps: ICloudPhotosDeps,
  ) {
    this.upload = options.experimentalUpload;
    this.capabilities = this.upload
      ? ICLOUD_PHOTOS_UPLOAD_CAPABILITIES
      : { ...ICLOUD_PHOTOS_CAPABILITIES, readOnlyReason: READ_ONLY_MESSAGE };
    this.webOrigin = options.webOrigin;
    this.pacer = deps.pacer ?? new Pacer({ clock: deps.clock, maxRetries: 6 });
    this.fetchImpl = deps.fetchImpl ?? fetch;
    this.client = new CloudKitClient({
      auth: new ICloudAuthService(options, this.fetchImpl),
      session: deps.session,
      password: options.password,
      endpoints: options,
      pacer: this.pacer,
      clock: deps.clock,
      saveSession: deps.saveSession,
      fetchImpl: this.fetchImpl,
    });
    this.library = new PhotoLibrary(this.client, {
      includeEdited: options.includeEdited,
      includeLivePhotoVideos: options.includeLivePhotoVideos,
      concurrency: options.listConcurrency,
      clock: deps.clock,
      ...deps.memory,
    });
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const path = normalizePath(dir);
    const parts = path === '' ? [] : path.split('/');
    const signal = opts.signal;
    if (parts.length === 0) {
      const zones = await this.library.zones(signal);
      for (const z of zones) yield folderEntry(z.root);
      yield folderEntry(ALBUMS);
      return;
    }
    if (parts[0] === ALBUMS) {
      const albums = await this.library.albums(signal);
      const node = parts.length === 1 ? undefined : albums.find((a) => a.path === path);
      if (parts.length > 1 && !node) {
        await this.failMissingDir(path, signal);
      }
      if (!node || node.isFolder) {
        const parentId = node?.recordName;
        for (const a of albums) if (a.parentId === parentId) yield folderEntry(a.path);
        return;
      }
      for (const f of await this.library.albumFiles(node, signal)) yield fileEntry(f);
      return;
    }
    const zone = await this.library.zoneByRoot(parts[0]!, signal);
    if (!zone) throw new NotFoundError(`'${path}' does not exist in iCloud Photos`);
    if (parts.length === 1) {
      const months = await this.library.fullScan(zone, signal);
      const years = [...new Set(months.map((m) => m.slice(0, 4)))];
      for (const y of years) yield folderEntry(`${zone.root}/${y}`);
      return;
    }
    const [, year, month] = parts;
    if (!/^\d{4}$/.test(year!) || (month !== undefined && !/^(0[1-9]|1[0-2])$/.test(month))) {
      await this.failMissingDir(path, signal);
    }
    if (parts.length === 2) {
      const months = await this.library.monthsOf(zone, year!, signal);
      if (months.length === 0) throw new NotFoundError(`'${path}' does not exist in iCloud Photos`);
      for (const m of months) yield folderEntry(`${zone.root}/${year}/${m}`);
      return;
    }
    if (parts.length === 3) {
      const files = await this.library.monthFiles(zone, year!, month!, signal);
      if (files.length === 0) throw new NotFoundError(`'${path}' does not exist in iCloud Photos`);
      for (const f of files) yield fileEntry(f);
      return;
    }
    await this.failMissingDir(path, signal);
  }

  private async failMissingDir(path: string, signal?: AbortSignal): Promise<never> {
    const r = await this.resolve(path, signal).catch(() => undefined);
    if (r?.kind === 'file') throw new NotADirectoryError(`'${path}' is a file`);
    throw new NotFoundError(`'${path}' does not exist in iCloud Photos`);
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const r = await this.resolve(normalizePath(path), opts.signal);
    return r.file ? fileEntry(r.file) : folderEntry(r.path);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const r = await this.resolve(normalizePath(path), opts.signal);
    if (!r.file) throw new IsADirectoryError(`'${r.path}' is a folder`);
    const file = r.file;
    const res = file.asset.resources[file.variant]!;
    const start = opts.range?.offset ?? 0;
    const end =
      opts.range?.length === undefined ? res.size : Math.min(res.size, start + opts.range.length);
    return openDownload(
      {
        pacer: this.pacer,
        fetchImpl: this.fetchImpl,
        now: () => this.deps.clock.now().getTime(),
        urlMaxAgeMs: URL_MAX_AGE_MS,
        refresh: async (signal) => {
          file.asset = await this.library.refreshAsset(file.asset, signal);
          const fresh = file.asset.resources[file.variant];
          if (!fresh) throw new NotFoundError(`'${file.path}' is no longer in iCloud Photos`);
          return fresh;
        },
      },
      res,
      file.asset.filename,
      { start, end: Math.max(start, end) },
      opts.signal,
    );
  }

  /** Finds what a path names, loading only the folder it lives in. */
  private async resolve(path: string, signal?: AbortSignal): Promise<Resolved> {
    const missing = () => new NotFoundError(`'${path}' does not exist in iCloud Photos`);
    const parts = path === '' ? [] : path.split('/');
    if (parts.length === 0) return { kind: 'folder', path };
    if (parts[0] === ALBUMS) {
      if (parts.length === 1) return { kind: 'folder', path };
      const albums = await this.library.albums(signal);
      const node = albums.find((a) => a.path === path);
      if (node) return { kind: 'folder', path };
      const parent = albums.find(
        (a) => a.path === path.slice(0, path.lastIndexOf('/')) && !a.isFolder,
      );
      if (!parent) throw missing();
      const file = (await this.library.albumFiles(parent, signal)).find((f) => f.path === path);
      if (!file) throw missing();
      return { kind: 'file', path, file };
    }
    const zone = await this.library.zoneByRoot(parts[0]!, signal);
    if (!zone || parts.length > 4) throw missing();
    if (parts.length === 1) return { kind: 'folder', path };
    const [, year, month] = parts;
    if (!/^\d{4}$/.test(year!)) throw missing();
    if (parts.length === 2) {
      if ((await this.library.monthsOf(zone, year!, signal)).length === 0) throw missing();
      return { kind: 'folder', path };
    }
    if (!/^(0[1-9]|1[0-2])$/.test(month!)) throw missing();
    const files = await this.library.monthFiles(zone, year!, month!, signal);
    if (files.length === 0) throw missing();
    if (parts.length === 3) return { kind: 'folder', path };
    const file = files.find((f) => f.path === path);
    if (!file) throw missing();
    return { kind: 'file', path, file };
  }

  /**
   * EXPERIMENTAL (option `experimentalUpload`): uploads into the personal library through the
   * photosupload flow (brief §4.2). A photo library has no folders, so the path asked for only
   * gives the file name; the asset lands where the library sorts it and the returned entry says
   * where: `All Photos/<YYYY>/<MM>/<name>`, YYYY/MM being the UTC month of the capture date
   * (`meta.modifiedAt`, else now). The name gets ` (<id>)` when another asset of that month has
   * it already (the listing's naming rule), and a byte-identical asset already in the library
   * is not uploaded again (its entry is returned). So the returned path may differ from the one
   * asked for, and a stat right after may miss the asset while iCloud indexes it (~15-20 s).
   * The size must be known up front (`meta.size`): the flow announces it before the bytes.
   */
  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    if (!this.upload) throw new UnsupportedError(READ_ONLY_MESSAGE);
    const asked = normalizePath(path);
    if (asked.split('/')[0] !== ALL_PHOTOS || asked === ALL_PHOTOS)
      throw new UnsupportedError(
        `iCloud Photos can only upload into '${ALL_PHOTOS}' (the personal library), not '${asked}': ` +
          'albums and the Shared Library are not upload targets; restore there to another location.',
      );
    if (meta.size === undefined)
      throw new UnsupportedError(
        'iCloud Photos upload needs the file size before the bytes (createUploadUrl announces it) ' +
          'and this stream has no known size; nothing was uploaded.',
      );
    const name = baseName(asked);
    const captureDate = (meta.modifiedAt ?? this.deps.clock.now()).getTime();
    const out = await uploadPhoto(
      {
        client: this.client,
        fetchImpl: this.fetchImpl,
        webOrigin: this.webOrigin,
        now: () => this.deps.clock.now().getTime(),
      },
      { fileName: name, size: meta.size, captureDate, body, signal: meta.signal },
    );
    const d = new Date(captureDate);
    const year = String(d.getUTCFullYear());
    const month = String(d.getUTCMonth() + 1).padStart(2, '0');
    const folder = `${ALL_PHOTOS}/${year}/${month}`;
    this.library.forgetMonth(folder);
    // Once indexed, the listing tells the exact name; before that, predict it.
    let files: PhotoFile[] = [];
    const zone = await this.library.zoneByRoot(ALL_PHOTOS, meta.signal);
    if (zone) files = await this.library.monthFiles(zone, year, month, meta.signal);
    const mine = files.find((f) => f.asset.assetId === out.assetId && f.variant === 'original');
    const uploadExtras = {
      uploadJobId: out.uploadJobId,
      duplicate: out.duplicate,
      requestedPath: asked,
    };
    if (mine) {
      const e = fileEntry(mine);
      return { ...e, extras: { ...e.extras, ...uploadExtras, indexing: false } };
    }
    this.library.forgetMonth(folder); // cached without the asset: load again next time
    const dot = name.lastIndexOf('.');
    const taken = files.some((f) => f.name === name && f.asset.assetId !== out.assetId);
    const finalName = taken
      ? `${dot > 0 ? name.slice(0, dot) : name} (${shortId(out.assetId)})${dot > 0 ? name.slice(dot) : ''}`
      : name;
    return {
      path: `${folder}/${finalName}`,
      name: finalName,
      kind: 'file',
      id: `${out.assetId}/original`,
      size: out.size,
      modifiedAt: d,
      hashes: {},
      extras: {
        assetId: out.assetId,
        masterId: out.masterId,
        zone: 'PrimarySync',
        captureDate: d.toISOString(),
        variant: 'original',
        ...uploadExtras,
        indexing: true,
      },
    };
  }

  /** Folders of All Photos follow the capture dates: creating one is a no-op (with upload on). */
  async mkdir(path: string): Promise<Entry> {
    if (!this.upload) throw new UnsupportedError(READ_ONLY_MESSAGE);
    const p = normalizePath(path);
    if (p === '' || p === ALL_PHOTOS || p.startsWith(ALL_PHOTOS + '/')) return folderEntry(p);
    throw new UnsupportedError(
      `iCloud Photos folders cannot be created ('${p}'): only '${ALL_PHOTOS}' takes uploads.`,
    );
  }

  /**
   * Moves the asset of an original to Recently Deleted (brief §4.1, `records/modify` setting
   * `isDeleted`), with upload on. Live Photo videos, RAW alternates, edits and folders are parts
   * of an asset or of the library's structure and are refused.
   */
  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    if (!this.upload) throw new UnsupportedError(READ_ONLY_MESSAGE);
    const r = await this.resolve(normalizePath(path), opts.signal);
    if (!r.file || r.file.variant !== 'original')
      throw new UnsupportedError(
        `'${r.path}' cannot be removed: only the original of a photo (which trashes the whole ` +
          'asset) can be moved to Recently Deleted.',
      );
    const a = r.file.asset;
    const [current] = await this.client.lookup(a.zone.db, a.zone.zoneID, [a.assetId], opts.signal);
    if (!current || current.serverErrorCode)
      throw new NotFoundError(`'${r.path}' is no longer in iCloud Photos`);
    const res = await this.client.call<{ records?: CkRecord[] }>(
      a.zone.db,
      'records/modify',
      {
        atomic: true,
        zoneID: a.zone.zoneID,
        desiredKeys: ['isDeleted'],
        operations: [
          {
            operationType: 'update',
            record: {
              recordName: a.assetId,
              recordType: 'CPLAsset',
              recordChangeTag: current.recordChangeTag,
              fields: { isDeleted: { value: 1 } },
            },
          },
        ],
      },
      opts.signal,
    );
    const rec = res.records?.[0];
    if (!rec || rec.serverErrorCode)
      throw new TransientError(
        `iCloud did not move '${r.path}' to Recently Deleted: ${rec?.serverErrorCode ?? 'no answer'} ${rec?.reason ?? ''}`,
      );
    const [year, month] = monthKey(a).split('/') as [string, string];
    this.library.forgetMonth(`${a.zone.root}/${year}/${month}`);
  }

  // ------------------------------------------------------------ change feed

  /** Zone sync tokens from zones/list (2 requests: private and shared database). */
  async currentCursor(_dir: string, opts: CallOptions = {}): Promise<string> {
    const zones = await this.library.zones(opts.signal);
    const cursor: FeedCursor = { v: 1, zones: {} };
    for (const z of zones) {
      const t = this.library.zoneTokens.get(z.zoneID.zoneName);
      if (t) cursor.zones[z.zoneID.zoneName] = t;
    }
    return Buffer.from(JSON.stringify(cursor)).toString('base64url');
  }

  /**
   * One `changes/zone` page per library zone. Unchanged library: one request per zone. Changed
   * assets are reported at their path, which needs their month folder (loaded as for a cold stat);
   * trashed assets are reported as deletes of the names they had. Known gaps (a weekly full
   * listing catches them): purged tombstones of assets this instance never saw, renamed albums,
   * and a same-named neighbour whose suffix drops when the plain-named asset goes away.
   */
  async changes(dir: string, cursor: string, opts: CallOptions = {}): Promise<ChangePage> {
    const scope = normalizePath(dir);
    const signal = opts.signal;
    const parsed = decodeCursor(cursor);
    const zones = await this.library.zones(signal);
    const next: FeedCursor = { v: 1, zones: { ...parsed.zones } };
    const out: Change[] = [];
    let hasMore = false;
    for (const zone of zones) {
      const token = parsed.zones[zone.zoneID.zoneName];
      if (token === undefined)
        throw new CursorExpiredError(`the cursor does not know the zone ${zone.zoneID.zoneName}`);
      const r = await this.client.call<CkChangesZoneResult>(
        zone.db,
        'changes/zone',
        {
          zones: [{ zoneID: zone.zoneID, syncToken: token, resultsLimit: 200 }],
        },
        signal,
      );
      const z = r.zones?.[0];
      if (!z || z.serverErrorCode) {
        throw new CursorExpiredError(
          `iCloud refused the sync token: ${z?.serverErrorCode ?? 'no answer'} ${z?.reason ?? ''}`,
        );
      }
      if (z.syncToken) next.zones[zone.zoneID.zoneName] = z.syncToken;
      hasMore ||= z.moreComing === true;
      out.push(...(await this.changesOf(zone, z.records ?? [], signal)));
    }
    return {
      changes: out.filter((c) => inScope(scope, c.type === 'upsert' ? c.entry.path : c.path)),
      cursor: Buffer.from(JSON.stringify(next)).toString('base64url'),
      hasMore,
    };
  }

  private async changesOf(
    zone: LibraryZone,
    records: CkRecord[],
    signal?: AbortSignal,
  ): Promise<Change[]> {
    const out: Change[] = [];
    // Tombstones (purged after 30 days in Recently Deleted): only names this instance knows.
    const purged = new Set(records.filter((r) => r.deleted).map((r) => r.recordName));
    for (const f of await this.library.loadedFilesOf(purged))
      out.push({ type: 'delete', path: f.path, id: f.asset.assetId });
    // Masters change with their asset (trash marks both); a master alone carries no new file.
    const assetRecords = records.filter((r) => !r.deleted && r.recordType === 'CPLAsset');
    const masters = records.filter((r) => !r.deleted && r.recordType === 'CPLMaster');
    const changed = await this.library.assetsFromRecords(
      zone,
      [...assetRecords, ...masters],
      signal,
    );
    const months = new Set(changed.map((a) => monthKey(a)));
    for (const m of months) this.library.forgetMonth(`${zone.root}/${m}`);
    for (const a of changed) {
      const [year, month] = monthKey(a).split('/') as [string, string];
      const files = await this.library.monthFiles(zone, year, month, signal);
      if (a.isDeleted || a.isHidden) {
        for (const f of this.library.nameAsIfPresent(`${zone.root}/${year}/${month}`, files, a)) {
          out.push({ type: 'delete', path: f.path, id: a.assetId });
        }
        continue;
      }
      for (const f of files)
        if (f.asset.assetId === a.assetId) out.push({ type: 'upsert', entry: fileEntry(f) });
    }
    if (zone.root === ALL_PHOTOS) out.push(...(await this.albumChanges(records, signal)));
    return out;
  }

  /** Album membership changes (`<asset>-IN-<album>` relations). */
  private async albumChanges(records: CkRecord[], signal?: AbortSignal): Promise<Change[]> {
    const relations = records.filter(
      (r) =>
        r.recordName.includes('-IN-') && (r.deleted || r.recordType === 'CPLContainerRelation'),
    );
    if (relations.length === 0) return [];
    const albums = await this.library.albums(signal);
    const out: Change[] = [];
    const touched = new Map<string, { node: AlbumNode; before: PhotoFile[] }>();
    for (const r of relations) {
      const albumId = r.recordName.slice(r.recordName.indexOf('-IN-') + 4);
      const node = albums.find((a) => a.recordName === albumId);
      if (!node || touched.has(node.path)) continue;
      touched.set(node.path, { node, before: await this.library.loadedFiles(node.path) });
    }
    for (const { node, before } of touched.values()) {
      this.library.forgetAlbum(node.path);
      const after = await this.library.albumFiles(node, signal);
      const now = new Set(after.map((f) => f.path));
      for (const f of before)
        if (!now.has(f.path)) out.push({ type: 'delete', path: f.path, id: f.asset.assetId });
      const relatedAssets = new Set(
        relations.map((r) => r.recordName.slice(0, r.recordName.indexOf('-IN-'))),
      );
      for (const f of after)
        if (relatedAssets.has(f.asset.assetId)) out.push({ type: 'upsert', entry: fileEntry(f) });
    }
    return out;
  }

  /** Deletes the listed folders kept on disk (fetch keeps no per-connector sockets). */
  async close(): Promise<void> {
    await this.library.close();
  }
}

function decodeCursor(cursor: string): FeedCursor {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as FeedCursor;
    if (v.v !== 1 || typeof v.zones !== 'object') throw new Error('bad version');
    return v;
  } catch (e) {
    throw new CursorExpiredError('the iCloud Photos cursor is not one this connector wrote', {
      cause: e,
    });
  }
}

function inScope(scope: string, path: string): boolean {
  return scope === '' || path === scope || path.startsWith(scope + '/');
}
