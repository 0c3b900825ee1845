import type { Clock } from '../../common/clock.js';
import { FatalError, NotFoundError, TransientError } from '../connector.errors.js';
import type { CkRecord, CkZoneListResult } from './api/types.js';
import type { CkDb, CloudKitClient } from './icloud-photos.client.js';
import { FolderStore } from './icloud-photos.folder-store.js';
import { ASSETS_PER_QUERY, LibraryQueries } from './icloud-photos.queries.js';
import {
  masterRefOf,
  monthKey,
  nameFolder,
  sanitizeName,
  shortId,
  toPhotoAsset,
  type LibraryZone,
  type PhotoAsset,
  type PhotoFile,
  type VariantOptions,
} from './icloud-photos.mapper.js';

export const ALL_PHOTOS = 'All Photos';
export const SHARED_LIBRARY = 'Shared Library';
export const ALBUMS = 'Albums';

/** Capture-time months are in the photo's own zone; UTC ordering can be off by up to 14 h. */
const TZ_MARGIN_MS = 15 * 3600_000;
/** Named files kept in memory (most recently used folders first); the rest is on disk. */
const CACHED_FILES = 5_000;

export interface AlbumNode {
  recordName: string;
  name: string;
  path: string;
  isFolder: boolean;
  parentId?: string;
}

/** Memory bounds of the library index (defaults suit the engine; tests shrink them). */
export interface LibraryMemoryOptions {
  /** Where loaded folders go once over the memory budget (a private directory is made in it). */
  spillDir?: string;
  /** Characters of stored assets (JSON lines, ~0.6 KB per asset) kept in memory before disk. */
  storeMemoryBudget?: number;
  /** Named files kept in memory, most recently used folders first. */
  cachedFiles?: number;
}

/**
 * The photo library as a folder tree, and the index of what was loaded while listing it.
 *
 * Cost (requests), N = assets in a library, M = assets in one month or album:
 * - full listing of a library: 1 count + ceil(N/100) pages (parallel) + 1 end probe;
 * - cold stat/read/list inside one month folder: 1 count + ~log2(N) one-item probes (binary
 *   search on startRank by capture date) + ceil(M/100) pages;
 * - albums: 1 query per 200 albums; one album: 1 count + ceil(M/100) pages + 1 probe.
 * Everything loaded stays known for the life of the connector instance (one run) at no further
 * request: memory holds the raw records of the pages in flight only (each page becomes compact
 * assets as it arrives) and the named files of the last folders used (`CACHED_FILES`); every
 * loaded folder's assets are on disk (`FolderStore`, about 0.5 KB per asset), so a full listing
 * of a 100,000-item library costs the same few MiB of memory as one of 1,000 items.
 */
export class PhotoLibrary {
  private zonesCache?: Promise<LibraryZone[]>;
  /** Zone sync tokens from zones/list, for the change feed cursor. */
  readonly zoneTokens = new Map<string, string>();
  /** Library root -> its month keys ('2021/03'), once fully listed. */
  private readonly fullScans = new Map<string, Promise<string[]>>();
  /** The assets of every folder loaded (month or album), on disk. */
  private readonly store: FolderStore;
  private readonly queries: LibraryQueries;
  /** Folder path -> its named files, least recently used first (bounded by `CACHED_FILES`). */
  private readonly named = new Map<string, PhotoFile[]>();
  private namedFiles = 0;
  private readonly loading = new Map<string, Promise<PhotoFile[]>>();
  private albumsCache?: Promise<AlbumNode[]>;

  constructor(
    private readonly client: CloudKitClient,
    private readonly opts: VariantOptions & {
      concurrency: number;
      clock: Clock;
    } & LibraryMemoryOptions,
  ) {
    this.store = new FolderStore(opts.spillDir, opts.storeMemoryBudget);
    this.queries = new LibraryQueries(client, opts);
  }

  /** Whether loaded folders went to disk (the in-memory budget was exceeded). */
  get spilled(): boolean {
    return this.store.spilled;
  }

  /** Deletes what was kept on disk. */
  close(): Promise<void> {
    this.named.clear();
    this.namedFiles = 0;
    return this.store.close();
  }

  // ----------------------------------------------------------------- zones

  zones(signal?: AbortSignal): Promise<LibraryZone[]> {
    this.zonesCache ??= this.loadZones(signal).catch((e: unknown) => {
      this.zonesCache = undefined;
      throw e;
    });
    return this.zonesCache;
  }

  private async loadZones(signal?: AbortSignal): Promise<LibraryZone[]> {
    const out: LibraryZone[] = [];
    let shared = 0;
    // Shared Library owners see its zone in /private, participants only in /shared (icloudpd #947).
    for (const db of ['private', 'shared'] as CkDb[]) {
      const r = await this.client.call<CkZoneListResult>(db, 'zones/list', {}, signal);
      for (const z of r.zones ?? []) {
        if (z.deleted) continue;
        const name = z.zoneID.zoneName;
        // Only PrimarySync and SharedSync-* are photo libraries; CMM-*, SharedCollection-* are not.
        let root: string;
        if (name === 'PrimarySync' && db === 'private') root = ALL_PHOTOS;
        else if (name.startsWith('SharedSync-'))
          root = shared++ === 0 ? SHARED_LIBRARY : `${SHARED_LIBRARY} ${shared}`;
        else continue;
        if (z.syncToken) this.zoneTokens.set(name, z.syncToken);
        out.push({
          db,
          zoneID: { zoneName: name, ownerRecordName: z.zoneID.ownerRecordName },
          root,
        });
      }
    }
    if (!out.some((z) => z.root === ALL_PHOTOS)) {
      throw new FatalError('iCloud Photos is not set up for this account (no PrimarySync zone).');
    }
    return out;
  }

  async zoneByRoot(root: string, signal?: AbortSignal): Promise<LibraryZone | undefined> {
    return (await this.zones(signal)).find((z) => z.root === root);
  }

  /** Names a folder's assets (the first of duplicates kept) and keeps the files in memory. */
  private name(folder: string, assets: PhotoAsset[]): PhotoFile[] {
    const ids = new Set<string>();
    const unique = assets.filter((a) => !ids.has(a.assetId) && ids.add(a.assetId));
    const files = nameFolder(folder, unique, this.opts);
    this.remember(folder, files);
    return files;
  }

  private remember(folder: string, files: PhotoFile[]): void {
    this.forgetNamed(folder);
    this.named.set(folder, files);
    this.namedFiles += files.length;
    const limit = this.opts.cachedFiles ?? CACHED_FILES;
    for (const [f, list] of this.named) {
      if (this.namedFiles <= limit || f === folder) break;
      this.named.delete(f);
      this.namedFiles -= list.length;
    }
  }

  private forgetNamed(folder: string): void {
    const old = this.named.get(folder);
    if (!old) return;
    this.named.delete(folder);
    this.namedFiles -= old.length;
  }

  /** The named files of a loaded folder (memory, else disk); undefined if never loaded. */
  private async folderFiles(folder: string): Promise<PhotoFile[] | undefined> {
    const hit = this.named.get(folder);
    if (hit) {
      this.named.delete(folder); // most recently used last
      this.named.set(folder, hit);
      return hit;
    }
    const busy = this.loading.get(folder);
    if (busy) return busy;
    if (!this.store.has(folder)) return undefined;
    const p = this.store.load(folder).then((assets) => this.name(folder, assets ?? []));
    this.loading.set(folder, p);
    try {
      return await p;
    } finally {
      this.loading.delete(folder);
    }
  }

  private forgetFolder(folder: string): void {
    this.forgetNamed(folder);
    this.store.drop(folder);
  }

  /** Groups assets by month, stores and names each month folder (a range scan's result). */
  private async storeMonths(
    zone: LibraryZone,
    assets: PhotoAsset[],
    onlyMonth: string,
  ): Promise<Map<string, PhotoFile[]>> {
    const byMonth = groupByMonth(assets, onlyMonth);
    const out = new Map<string, PhotoFile[]>();
    for (const [m, list] of [...byMonth.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const folder = `${zone.root}/${m}`;
      await this.store.replace(folder, zone, list);
      out.set(m, this.name(folder, list));
    }
    return out;
  }

  /**
   * Full listing of a library zone, shared by every caller of this connector instance: the
   * month keys ('2021/03', sorted); each month's assets go to disk page by page.
   */
  fullScan(zone: LibraryZone, signal?: AbortSignal): Promise<string[]> {
    let p = this.fullScans.get(zone.root);
    if (!p) {
      const prefix = `${zone.root}/`;
      for (const f of this.store.list(prefix)) this.forgetFolder(f);
      const months = new Set<string>();
      p = this.queries
        .scanAll(
          zone,
          undefined,
          async (assets) => {
            const writes: Array<Promise<void>> = [];
            for (const [m, list] of groupByMonth(assets)) {
              months.add(m);
              writes.push(this.store.append(prefix + m, zone, list));
            }
            await Promise.all(writes);
          },
          signal,
        )
        .then(() => [...months].sort());
      p.catch(() => {
        this.fullScans.delete(zone.root);
        for (const f of this.store.list(prefix)) this.forgetFolder(f);
      });
      this.fullScans.set(zone.root, p);
    }
    return p;
  }

  isFullyScanned(root: string): boolean {
    return this.fullScans.has(root);
  }

  /**
   * Assets whose capture date falls in [from, to) (UTC ms, widened by the time-zone margin):
   * binary search on startRank (one-asset probes), then pages until past `to`.
   */
  private async scanRange(
    zone: LibraryZone,
    from: number,
    to: number,
    signal?: AbortSignal,
  ): Promise<PhotoAsset[]> {
    const total = await this.queries.count(
      zone,
      'CPLAssetByAssetDateWithoutHiddenOrDeleted',
      signal,
    );
    let lo = 0;
    let hi = total;
    const lower = from - TZ_MARGIN_MS;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = await this.queries.page(zone, mid, 1, undefined, signal);
      const date = r.assets[0]?.[0].fields?.assetDate?.value;
      if (typeof date !== 'number') {
        hi = mid; // past the end (the library shrank)
        continue;
      }
      if (date < lower) lo = mid + 1;
      else hi = mid;
    }
    const pairs: Array<[CkRecord, CkRecord | undefined]> = [];
    for (let rank = lo; ;) {
      const r = await this.queries.page(zone, rank, ASSETS_PER_QUERY, undefined, signal);
      if (r.count === 0) break;
      pairs.push(...r.assets);
      rank += r.count;
      const last = r.assets[r.assets.length - 1]?.[0].fields?.assetDate?.value;
      if (typeof last === 'number' && last >= to + TZ_MARGIN_MS) break;
    }
    return this.queries.complete(zone, pairs, signal);
  }

  /** Month folders ('MM') of a year. */
  async monthsOf(zone: LibraryZone, year: string, signal?: AbortSignal): Promise<string[]> {
    let months: string[];
    if (this.isFullyScanned(zone.root)) {
      months = (await this.fullScan(zone, signal)).filter((m) => m.startsWith(`${year}/`));
    } else {
      const y = Number(year);
      const assets = await this.scanRange(zone, Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1), signal);
      months = [...(await this.storeMonths(zone, assets, `${year}/`)).keys()];
    }
    return months.map((m) => m.slice(5));
  }

  /** Files of one month folder (loads just that month when the library was not listed). */
  async monthFiles(
    zone: LibraryZone,
    year: string,
    month: string,
    signal?: AbortSignal,
  ): Promise<PhotoFile[]> {
    const folder = `${zone.root}/${year}/${month}`;
    if (this.isFullyScanned(zone.root)) await this.fullScan(zone, signal);
    const known = await this.folderFiles(folder);
    if (known) return known;
    if (this.isFullyScanned(zone.root)) return [];
    const y = Number(year);
    const m = Number(month) - 1;
    const assets = await this.scanRange(zone, Date.UTC(y, m, 1), Date.UTC(y, m + 1, 1), signal);
    return (await this.storeMonths(zone, assets, `${year}/${month}`)).get(`${year}/${month}`) ?? [];
  }

  /** Forgets a loaded month (the change feed reloads it after changes). */
  forgetMonth(folder: string): void {
    this.forgetFolder(folder);
    for (const root of [...this.fullScans.keys()])
      if (folder.startsWith(root + '/')) this.fullScans.delete(root);
  }

  /** The files of a folder as this instance last loaded it ([] if it never did). */
  async loadedFiles(folder: string): Promise<PhotoFile[]> {
    return (await this.folderFiles(folder)) ?? [];
  }

  /** Every file this instance loaded (in any month or album) of the given assets. */
  async loadedFilesOf(assetIds: ReadonlySet<string>): Promise<PhotoFile[]> {
    if (assetIds.size === 0) return [];
    const out: PhotoFile[] = [];
    for (const folder of this.store.list()) {
      if (!this.named.has(folder)) {
        // Parse and name only the folders whose stored text mentions one of the ids.
        const text = (await this.store.text(folder)) ?? '';
        if (![...assetIds].some((id) => text.includes(JSON.stringify(id)))) continue;
      }
      for (const f of (await this.folderFiles(folder)) ?? [])
        if (assetIds.has(f.asset.assetId)) out.push(f);
    }
    return out;
  }

  /** Names the asset would have in its month folder next to the given files (for deletes). */
  nameAsIfPresent(folder: string, present: PhotoFile[], asset: PhotoAsset): PhotoFile[] {
    const others = [
      ...new Map(
        present
          .filter((f) => f.asset.assetId !== asset.assetId)
          .map((f) => [f.asset.assetId, f.asset]),
      ).values(),
    ];
    return nameFolder(folder, [...others, asset], this.opts).filter(
      (f) => f.asset.assetId === asset.assetId,
    );
  }

  // ---------------------------------------------------------------- albums

  albums(signal?: AbortSignal): Promise<AlbumNode[]> {
    this.albumsCache ??= this.loadAlbums(signal).catch((e: unknown) => {
      this.albumsCache = undefined;
      throw e;
    });
    return this.albumsCache;
  }

  private async loadAlbums(signal?: AbortSignal): Promise<AlbumNode[]> {
    const zone = await this.zoneByRoot(ALL_PHOTOS, signal);
    if (!zone) return [];
    const raw: CkRecord[] = [];
    let marker: string | undefined;
    do {
      const r = await this.client.query(
        zone.db,
        {
          query: { recordType: 'CPLAlbumByPositionLive' },
          resultsLimit: 200,
          zoneID: zone.zoneID,
          ...(marker ? { continuationMarker: marker } : {}),
        },
        signal,
      );
      raw.push(...(r.records ?? []));
      marker = r.continuationMarker;
    } while (marker);
    const nodes = raw
      .filter(
        (r) =>
          r.recordType === 'CPLAlbum' &&
          !r.recordName.startsWith('----') &&
          r.fields?.isDeleted?.value !== 1 &&
          (r.fields?.albumType?.value === 0 || r.fields?.albumType?.value === 3),
      )
      .map((r) => {
        const enc = r.fields?.albumNameEnc?.value;
        const name =
          typeof enc === 'string' ? Buffer.from(enc, 'base64').toString('utf8') : r.recordName;
        const parent = r.fields?.parentId?.value;
        return {
          recordName: r.recordName,
          name: sanitizeName(name),
          isFolder: r.fields?.albumType?.value === 3,
          parentId: typeof parent === 'string' && !parent.startsWith('----') ? parent : undefined,
          position: typeof r.fields?.position?.value === 'number' ? r.fields.position.value : 0,
          path: '',
        };
      });
    const byId = new Map(nodes.map((n) => [n.recordName, n]));
    // Same-named siblings: the first by position keeps the name, others get the id suffix.
    const pathOf = (n: (typeof nodes)[number], depth = 0): string => {
      if (n.path) return n.path;
      const parent = n.parentId ? byId.get(n.parentId) : undefined;
      const parentPath = parent && depth < 20 ? pathOf(parent, depth + 1) : ALBUMS;
      const siblings = nodes
        .filter((s) => s.parentId === n.parentId && s.name.toLowerCase() === n.name.toLowerCase())
        .sort((a, b) => a.position - b.position || (a.recordName < b.recordName ? -1 : 1));
      const name = siblings[0] === n ? n.name : `${n.name} (${shortId(n.recordName)})`;
      n.path = `${parentPath}/${name}`;
      return n.path;
    };
    for (const n of nodes) pathOf(n);
    return nodes.map(({ recordName, name, path, isFolder, parentId }) => ({
      recordName,
      name,
      path,
      isFolder,
      parentId,
    }));
  }

  async albumFiles(album: AlbumNode, signal?: AbortSignal): Promise<PhotoFile[]> {
    const known = await this.folderFiles(album.path);
    if (known) return known;
    const p = (async () => {
      const zone = await this.zoneByRoot(ALL_PHOTOS, signal);
      if (!zone) throw new NotFoundError(`album '${album.path}' has no library`);
      const assets: PhotoAsset[] = [];
      await this.queries.scanAll(zone, album.recordName, (a) => void assets.push(...a), signal);
      await this.store.replace(album.path, zone, assets);
      return this.name(album.path, assets);
    })();
    this.loading.set(album.path, p);
    try {
      return await p;
    } finally {
      if (this.loading.get(album.path) === p) this.loading.delete(album.path);
    }
  }

  forgetAlbum(path: string): void {
    this.forgetFolder(path);
  }

  /** Re-reads one asset (and its master) for fresh download URLs. */
  async refreshAsset(asset: PhotoAsset, signal?: AbortSignal): Promise<PhotoAsset> {
    const recs = await this.client.lookup(
      asset.zone.db,
      asset.zone.zoneID,
      [asset.assetId, asset.masterId],
      signal,
    );
    const a = recs.find((r) => r.recordName === asset.assetId && !r.serverErrorCode && !r.deleted);
    const m = recs.find((r) => r.recordName === asset.masterId && !r.serverErrorCode && !r.deleted);
    if (!a || !m)
      throw new NotFoundError(`the photo '${asset.filename}' is no longer in the library`);
    const fresh = toPhotoAsset(asset.zone, a, m, this.opts.clock.now().getTime());
    if (!fresh)
      throw new TransientError(`the photo '${asset.filename}' lost its original resource`);
    return fresh;
  }

  /** Builds assets from changed records (fetching masters that did not change). */
  async assetsFromRecords(
    zone: LibraryZone,
    records: CkRecord[],
    signal?: AbortSignal,
  ): Promise<PhotoAsset[]> {
    const pairs: Array<[CkRecord, CkRecord | undefined]> = [];
    const masters = new Map<string, CkRecord>();
    for (const r of records) if (r.recordType === 'CPLMaster') masters.set(r.recordName, r);
    for (const r of records)
      if (r.recordType === 'CPLAsset') pairs.push([r, masters.get(masterRefOf(r) ?? '')]);
    const known = new Map<string, CkRecord>(masters);
    const missing = pairs
      .filter(([, m]) => !m)
      .map(([a]) => masterRefOf(a) ?? '')
      .filter((x) => x !== '');
    if (missing.length > 0) {
      for (const m of await this.client.lookup(
        zone.db,
        zone.zoneID,
        [...new Set(missing)],
        signal,
      )) {
        if (!m.serverErrorCode && m.recordType === 'CPLMaster') known.set(m.recordName, m);
      }
    }
    const now = this.opts.clock.now().getTime();
    const out: PhotoAsset[] = [];
    for (const [a] of pairs) {
      const m = known.get(masterRefOf(a) ?? '');
      const asset = m ? toPhotoAsset(zone, a, m, now) : undefined;
      if (asset) out.push(asset);
    }
    return out;
  }
}

function groupByMonth(assets: PhotoAsset[], onlyMonth?: string): Map<string, PhotoAsset[]> {
  const byMonth = new Map<string, PhotoAsset[]>();
  for (const a of assets) {
    const m = monthKey(a);
    if (onlyMonth !== undefined && !m.startsWith(onlyMonth)) continue;
    const list = byMonth.get(m);
    if (list) list.push(a);
    else byMonth.set(m, [a]);
  }
  return byMonth;
}
