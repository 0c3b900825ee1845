import type { Clock } from '../../common/clock.js';
import { FatalError, NotFoundError, TransientError } from '../connector.errors.js';
import type { CkRecord, CkZoneListResult } from './api/types.js';
import type { CkDb, CloudKitClient, QueryResult } from './icloud-photos.client.js';
import {
  DESIRED_KEYS,
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

/** Assets per listing query: resultsLimit counts records and each asset is a CPLMaster + CPLAsset. */
export const ASSETS_PER_QUERY = 100;
const ALL_INDEX = 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted';
const ALBUM_INDEX = 'CPLContainerRelationLiveByAssetDate';
/** Capture-time months are in the photo's own zone; UTC ordering can be off by up to 14 h. */
const TZ_MARGIN_MS = 15 * 3600_000;

export interface AlbumNode {
  recordName: string;
  name: string;
  path: string;
  isFolder: boolean;
  parentId?: string;
}

interface PageResult {
  assets: Array<[CkRecord, CkRecord | undefined]>;
  syncToken?: string;
  count: number;
}

/**
 * The photo library as a folder tree, and the in-memory index built while listing it.
 *
 * Cost (requests), N = assets in a library, M = assets in one month or album:
 * - full listing of a library: 1 count + ceil(N/100) pages (parallel) + 1 end probe;
 * - cold stat/read/list inside one month folder: 1 count + ~log2(N) one-item probes (binary
 *   search on startRank by capture date) + ceil(M/100) pages;
 * - albums: 1 query per 200 albums; one album: 1 count + ceil(M/100) pages + 1 probe.
 * Everything loaded stays indexed for the life of the connector instance (one run).
 */
export class PhotoLibrary {
  private zonesCache?: Promise<LibraryZone[]>;
  /** Zone sync tokens from zones/list, for the change feed cursor. */
  readonly zoneTokens = new Map<string, string>();
  private readonly fullScans = new Map<string, Promise<Map<string, PhotoFile[]>>>();
  /** 'All Photos/2021/03' -> files, for every month loaded (fully or by a range scan). */
  private readonly months = new Map<string, PhotoFile[]>();
  private albumsCache?: Promise<AlbumNode[]>;
  private readonly albumFilesCache = new Map<string, Promise<PhotoFile[]>>();
  /** Files per asset id, to find what a deleted asset was called. */
  readonly filesByAsset = new Map<string, PhotoFile[]>();

  constructor(
    private readonly client: CloudKitClient,
    private readonly opts: VariantOptions & { concurrency: number; clock: Clock },
  ) {}

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

  // ------------------------------------------------------------- queries

  private async count(
    zone: LibraryZone,
    indexCountId: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const r = await this.client.query(
      zone.db,
      {
        query: {
          recordType: 'HyperionIndexCountLookup',
          filterBy: {
            fieldName: 'indexCountID',
            comparator: 'IN',
            fieldValue: { type: 'STRING_LIST', value: [indexCountId] },
          },
        },
        zoneWide: true,
        zoneID: zone.zoneID,
      },
      signal,
    );
    const v = r.records?.[0]?.fields?.itemCount?.value;
    return typeof v === 'number' ? v : 0;
  }

  private async page(
    zone: LibraryZone,
    startRank: number,
    assets: number,
    albumId: string | undefined,
    signal?: AbortSignal,
  ): Promise<PageResult> {
    const filterBy: unknown[] = [
      {
        fieldName: 'startRank',
        comparator: 'EQUALS',
        fieldValue: { type: 'INT64', value: startRank },
      },
      {
        fieldName: 'direction',
        comparator: 'EQUALS',
        fieldValue: { type: 'STRING', value: 'ASCENDING' },
      },
    ];
    if (albumId) {
      filterBy.push({
        fieldName: 'parentId',
        comparator: 'EQUALS',
        fieldValue: { type: 'STRING', value: albumId },
      });
    }
    const r: QueryResult = await this.client.query(
      zone.db,
      {
        query: { recordType: albumId ? ALBUM_INDEX : ALL_INDEX, filterBy },
        resultsLimit: assets * (albumId ? 3 : 2),
        desiredKeys: DESIRED_KEYS,
        zoneID: zone.zoneID,
      },
      signal,
    );
    const masters = new Map<string, CkRecord>();
    const list: CkRecord[] = [];
    for (const rec of r.records ?? []) {
      if (rec.recordType === 'CPLMaster') masters.set(rec.recordName, rec);
      else if (rec.recordType === 'CPLAsset') list.push(rec);
    }
    return {
      assets: list.map((a) => [a, masters.get(masterRefOf(a) ?? '')]),
      syncToken: r.syncToken,
      count: list.length,
    };
  }

  /** Pairs assets with masters, fetching the halves a page boundary split off. */
  private async complete(
    zone: LibraryZone,
    pairs: Array<[CkRecord, CkRecord | undefined]>,
    signal?: AbortSignal,
  ): Promise<PhotoAsset[]> {
    const known = new Map<string, CkRecord>();
    for (const [, m] of pairs) if (m) known.set(m.recordName, m);
    const missing = [
      ...new Set(
        pairs.filter(([a]) => !known.has(masterRefOf(a) ?? '')).map(([a]) => masterRefOf(a) ?? ''),
      ),
    ].filter((x) => x !== '');
    if (missing.length > 0) {
      for (const m of await this.client.lookup(zone.db, zone.zoneID, missing, signal)) {
        if (!m.serverErrorCode && m.recordType === 'CPLMaster') known.set(m.recordName, m);
      }
    }
    const now = this.opts.clock.now().getTime();
    const seen = new Set<string>();
    const out: PhotoAsset[] = [];
    for (const [a] of pairs) {
      if (seen.has(a.recordName)) continue; // ranks shift under concurrent edits: dedupe by recordName
      seen.add(a.recordName);
      const m = known.get(masterRefOf(a) ?? '');
      if (!m) continue;
      const asset = toPhotoAsset(zone, a, m, now);
      if (asset && !asset.isDeleted && !asset.isHidden) out.push(asset);
    }
    return out;
  }

  /** Runs tasks with at most `concurrency` in flight; results in task order. */
  private async parallel<T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = new Array<T>(n);
    let next = 0;
    const workers = Array.from(
      { length: Math.min(n, Math.max(1, this.opts.concurrency)) },
      async () => {
        for (let i = next++; i < n; i = next++) out[i] = await task(i);
      },
    );
    await Promise.all(workers);
    return out;
  }

  /** Every asset of a library or album: count, parallel pages, then probe past the count. */
  private async scanAll(
    zone: LibraryZone,
    albumId: string | undefined,
    signal?: AbortSignal,
  ): Promise<PhotoAsset[]> {
    const total = await this.count(
      zone,
      albumId
        ? `CPLContainerRelationNotDeletedByAssetDate:${albumId}`
        : 'CPLAssetByAssetDateWithoutHiddenOrDeleted',
      signal,
    );
    const pages = Math.ceil(total / ASSETS_PER_QUERY);
    const results = await this.parallel(pages, (i) =>
      this.page(zone, i * ASSETS_PER_QUERY, ASSETS_PER_QUERY, albumId, signal),
    );
    const pairs = results.flatMap((r) => r.assets);
    // Counts are advisory (icloudpd #1165): keep paging until a page comes back empty.
    for (let rank = pages * ASSETS_PER_QUERY; ;) {
      const r = await this.page(zone, rank, ASSETS_PER_QUERY, albumId, signal);
      if (r.count === 0) break;
      pairs.push(...r.assets);
      rank += r.count;
    }
    return this.complete(zone, pairs, signal);
  }

  private index(folder: string, assets: PhotoAsset[]): PhotoFile[] {
    const files = nameFolder(folder, assets, this.opts);
    for (const f of files) {
      const list = (this.filesByAsset.get(f.asset.assetId) ?? []).filter(
        (x) => !x.path.startsWith(folder + '/') || x.path.slice(folder.length + 1).includes('/'),
      );
      list.push(f);
      this.filesByAsset.set(f.asset.assetId, list);
    }
    return files;
  }

  /** Groups assets by month and names each month folder. */
  private storeMonths(
    root: string,
    assets: PhotoAsset[],
    onlyMonth?: string,
  ): Map<string, PhotoFile[]> {
    const byMonth = new Map<string, PhotoAsset[]>();
    for (const a of assets) {
      const m = monthKey(a);
      if (onlyMonth !== undefined && !m.startsWith(onlyMonth)) continue;
      const list = byMonth.get(m) ?? [];
      list.push(a);
      byMonth.set(m, list);
    }
    const out = new Map<string, PhotoFile[]>();
    for (const [m, list] of [...byMonth.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const folder = `${root}/${m}`;
      const files = this.index(folder, list);
      this.months.set(folder, files);
      out.set(m, files);
    }
    return out;
  }

  /** Full listing of a library zone; shared by every caller of this connector instance. */
  fullScan(zone: LibraryZone, signal?: AbortSignal): Promise<Map<string, PhotoFile[]>> {
    let p = this.fullScans.get(zone.root);
    if (!p) {
      p = this.scanAll(zone, undefined, signal).then((assets) =>
        this.storeMonths(zone.root, assets),
      );
      p.catch(() => this.fullScans.delete(zone.root));
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
    const total = await this.count(zone, 'CPLAssetByAssetDateWithoutHiddenOrDeleted', signal);
    let lo = 0;
    let hi = total;
    const lower = from - TZ_MARGIN_MS;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = await this.page(zone, mid, 1, undefined, signal);
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
      const r = await this.page(zone, rank, ASSETS_PER_QUERY, undefined, signal);
      if (r.count === 0) break;
      pairs.push(...r.assets);
      rank += r.count;
      const last = r.assets[r.assets.length - 1]?.[0].fields?.assetDate?.value;
      if (typeof last === 'number' && last >= to + TZ_MARGIN_MS) break;
    }
    return this.complete(zone, pairs, signal);
  }

  /** Month folders ('MM') of a year. */
  async monthsOf(zone: LibraryZone, year: string, signal?: AbortSignal): Promise<string[]> {
    let months: string[];
    if (this.isFullyScanned(zone.root)) {
      months = [...(await this.fullScan(zone, signal)).keys()].filter((m) =>
        m.startsWith(`${year}/`),
      );
    } else {
      const y = Number(year);
      const assets = await this.scanRange(zone, Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1), signal);
      months = [...this.storeMonths(zone.root, assets, `${year}/`).keys()];
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
    const cached = this.months.get(folder);
    if (cached) return cached;
    if (this.isFullyScanned(zone.root)) return [];
    const y = Number(year);
    const m = Number(month) - 1;
    const assets = await this.scanRange(zone, Date.UTC(y, m, 1), Date.UTC(y, m + 1, 1), signal);
    return this.storeMonths(zone.root, assets, `${year}/${month}`).get(`${year}/${month}`) ?? [];
  }

  /** Forgets a loaded month (the change feed reloads it after changes). */
  forgetMonth(folder: string): void {
    this.months.delete(folder);
    for (const root of [...this.fullScans.keys()])
      if (folder.startsWith(root + '/')) this.fullScans.delete(root);
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

  albumFiles(album: AlbumNode, signal?: AbortSignal): Promise<PhotoFile[]> {
    let p = this.albumFilesCache.get(album.path);
    if (!p) {
      p = (async () => {
        const zone = await this.zoneByRoot(ALL_PHOTOS, signal);
        if (!zone) throw new NotFoundError(`album '${album.path}' has no library`);
        return this.index(album.path, await this.scanAll(zone, album.recordName, signal));
      })();
      p.catch(() => this.albumFilesCache.delete(album.path));
      this.albumFilesCache.set(album.path, p);
    }
    return p;
  }

  forgetAlbum(path: string): void {
    this.albumFilesCache.delete(path);
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
