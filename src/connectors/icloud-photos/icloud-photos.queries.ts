import type { Clock } from '../../common/clock.js';
import type { CkRecord } from './api/types.js';
import type { CloudKitClient, QueryResult } from './icloud-photos.client.js';
import {
  DESIRED_KEYS,
  masterRefOf,
  toPhotoAsset,
  type LibraryZone,
  type PhotoAsset,
} from './icloud-photos.mapper.js';

/** Assets per listing query: resultsLimit counts records and each asset is a CPLMaster + CPLAsset. */
export const ASSETS_PER_QUERY = 100;
const ALL_INDEX = 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted';
const ALBUM_INDEX = 'CPLContainerRelationLiveByAssetDate';

export interface PageResult {
  assets: Array<[CkRecord, CkRecord | undefined]>;
  syncToken?: string;
  count: number;
}

/**
 * The CloudKit queries a photo library is read with: index counts, pages of assets by rank (of
 * the whole library or of one album), and the pairing of each asset with its master record.
 */
export class LibraryQueries {
  constructor(
    private readonly client: CloudKitClient,
    private readonly opts: { concurrency: number; clock: Clock },
  ) {}

  async count(zone: LibraryZone, indexCountId: string, signal?: AbortSignal): Promise<number> {
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

  async page(
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
  async complete(
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

  /**
   * Every asset of a library or album: count, parallel pages, then probe past the count. Each
   * page is handed to `take` as compact assets as soon as it arrives (its raw records are not
   * kept); assets whose master was on another page are completed at the end with one lookup.
   * The same asset can come twice (ranks shift under concurrent edits): `name` keeps the first.
   */
  async scanAll(
    zone: LibraryZone,
    albumId: string | undefined,
    take: (assets: PhotoAsset[]) => Promise<void> | void,
    signal?: AbortSignal,
  ): Promise<void> {
    const total = await this.count(
      zone,
      albumId
        ? `CPLContainerRelationNotDeletedByAssetDate:${albumId}`
        : 'CPLAssetByAssetDateWithoutHiddenOrDeleted',
      signal,
    );
    const orphans: Array<[CkRecord, undefined]> = [];
    // Raw records live only while a page is turned into assets, not across `take`'s writes.
    const assetsOf = async (r: PageResult): Promise<PhotoAsset[]> => {
      const paired: Array<[CkRecord, CkRecord | undefined]> = [];
      for (const pair of r.assets) {
        if (pair[1]) paired.push(pair);
        else orphans.push([pair[0], undefined]);
      }
      return this.complete(zone, paired, signal);
    };
    const consume = async (assets: PhotoAsset[]): Promise<void> => {
      if (assets.length > 0) await take(assets);
    };
    const pages = Math.ceil(total / ASSETS_PER_QUERY);
    await this.parallel(pages, async (i) =>
      consume(
        await assetsOf(
          await this.page(zone, i * ASSETS_PER_QUERY, ASSETS_PER_QUERY, albumId, signal),
        ),
      ),
    );
    // Counts are advisory (icloudpd #1165): keep paging until a page comes back empty.
    for (let rank = pages * ASSETS_PER_QUERY; ;) {
      const r = await this.page(zone, rank, ASSETS_PER_QUERY, albumId, signal);
      if (r.count === 0) break;
      rank += r.count;
      await consume(await assetsOf(r));
    }
    if (orphans.length > 0) {
      const assets = await this.complete(zone, orphans, signal);
      if (assets.length > 0) await take(assets);
    }
  }
}
