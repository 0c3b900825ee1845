import { createCipheriv, createHash } from 'node:crypto';

/**
 * The fake photo library: deterministic, generated from a seed, with bytes produced lazily
 * (AES-CTR keystream keyed per resource, so any range is computed without storing the file and a
 * 100,000-item library costs only its metadata in RAM).
 */

export type AssetKind = 'heic-live' | 'jpeg' | 'png' | 'mov' | 'raw-jpeg' | 'dng' | 'jpeg-edited';

/** A downloadable resource of an asset (the field prefix in CloudKit). */
export type ResourceVariant =
  'resOriginal' | 'resOriginalAlt' | 'resOriginalVidCompl' | 'resJPEGFull';

export interface AssetState {
  /** Unique ordinal inside the zone; stable. */
  index: number;
  zone: string;
  assetId: string;
  masterId: string;
  filename: string | undefined;
  filenameType: 'ENCRYPTED_BYTES' | 'STRING' | 'none';
  kind: AssetKind;
  assetDate: number;
  addedDate: number;
  /** Seconds east of UTC. */
  tzOffset: number;
  hidden: boolean;
  deleted: boolean;
  purged: boolean;
  /** Generation of the rendered edit (0: never edited). */
  editGen: number;
  sizes: Partial<Record<ResourceVariant, number>>;
  assetTag: number;
  masterTag: number;
  modifiedAt: number;
  /** Set for assets created through the upload flow: their bytes live in a file, not a keystream. */
  upload?: UploadedContent;
}

/** Where an uploaded original is kept (a temp file) and what the upload flow reported for it. */
export interface UploadedContent {
  file: string;
  /** File extension taken from putAsset's fileName, upper case ('HEIC', 'JPG'...). */
  ext: string;
  /** Hex SHA-256 of the bytes (the emulator's duplicate key; Apple uses MMCS fingerprints). */
  sha256: string;
}

export interface AlbumState {
  recordName: string;
  name: string;
  /** 0 album, 3 folder. */
  albumType: 0 | 3;
  parentId?: string;
  position: number;
  deleted: boolean;
  members: Set<string>;
}

interface LogEntry {
  seq: number;
  key: string;
}

const UTI: Record<string, string> = {
  HEIC: 'public.heic',
  HEIF: 'public.heif',
  JPG: 'public.jpeg',
  JPEG: 'public.jpeg',
  PNG: 'public.png',
  GIF: 'com.compuserve.gif',
  TIF: 'public.tiff',
  TIFF: 'public.tiff',
  WEBP: 'org.webmproject.webp',
  MOV: 'com.apple.quicktime-movie',
  MP4: 'public.mpeg-4',
  M4V: 'com.apple.m4v-video',
  CR2: 'com.canon.cr2-raw-image',
  DNG: 'com.adobe.raw-image',
};

export function utiOf(ext: string): string {
  return UTI[ext.toUpperCase()] ?? 'public.data';
}

function h32(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('|')).digest().readUInt32BE(0);
}

function uuidFrom(...parts: Array<string | number>): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function fingerprintFrom(...parts: Array<string | number>): string {
  // CPLMaster recordNames look like 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO' (base64 of a fingerprint).
  return (
    'A' +
    createHash('sha256').update(parts.join('|')).digest('base64').replace(/=+$/, '').slice(0, 27)
  );
}

export interface LibraryOptions {
  seed: string;
  zone: string;
  size: number;
  minFileSize: number;
  maxFileSize: number;
  /** First capture date, ms. */
  startDate: number;
  /** Capture dates spread over this many ms. */
  spanMs: number;
  albums: boolean;
}

/** One CloudKit zone holding a photo library, with its change log for sync tokens. */
export class ZoneLibrary {
  readonly assets: AssetState[] = [];
  readonly byAssetId = new Map<string, AssetState>();
  readonly byMasterId = new Map<string, AssetState>();
  readonly albums: AlbumState[] = [];
  seq = 0;
  private readonly log: LogEntry[] = [];
  private readonly latest = new Map<string, number>();
  private visibleCache: AssetState[] | undefined;
  private nextIndex = 0;

  constructor(readonly opts: LibraryOptions) {
    for (let i = 0; i < opts.size; i++) this.pushAsset(this.generate(i));
    if (opts.albums) this.seedAlbums();
  }

  /** Deterministic asset number i, covering the awkward cases the protocol brief lists. */
  private generate(i: number, overrides: Partial<AssetState> = {}): AssetState {
    const o = this.opts;
    const kinds: AssetKind[] = [
      'heic-live',
      'jpeg',
      'heic-live',
      'png',
      'jpeg',
      'mov',
      'raw-jpeg',
      'dng',
      'jpeg-edited',
      'heic-live',
    ];
    const kind = kinds[i % kinds.length]!;
    const ext = {
      'heic-live': 'HEIC',
      jpeg: 'JPG',
      png: 'PNG',
      mov: 'MOV',
      'raw-jpeg': 'JPG',
      dng: 'DNG',
      'jpeg-edited': 'JPG',
    }[kind];
    // Every 7th asset reuses the previous one's name: phones restart numbering, AirDrop
    // "FullSizeRender" and imports all produce identical names for different assets.
    const n = i % 7 === 6 && i > 0 ? i - 1 : i;
    let filename: string | undefined = `IMG_${String((n % 9999) + 1).padStart(4, '0')}.${ext}`;
    let filenameType: AssetState['filenameType'] = 'ENCRYPTED_BYTES';
    if (i % 23 === 11) filename = `Été ☀ ${i}.${ext}`;
    if (i % 29 === 13) filenameType = 'STRING';
    if (i % 31 === 17) {
      filename = undefined;
      filenameType = 'none';
    }
    const span = o.size > 1 ? o.spanMs / o.size : 0;
    // Duplicates are taken shortly after the original, so they land in the same month folder.
    const assetDate =
      Math.floor(
        o.startDate + n * span + (h32(o.seed, n, 'd') % Math.max(1, Math.floor(span / 2))),
      ) + (n === i ? 0 : 3_600_000);
    const size = (v: string) =>
      o.minFileSize + (h32(o.seed, o.zone, i, v) % (o.maxFileSize - o.minFileSize + 1));
    const sizes: AssetState['sizes'] = { resOriginal: size('o') };
    if (kind === 'heic-live') sizes.resOriginalVidCompl = size('l');
    if (kind === 'raw-jpeg') sizes.resOriginalAlt = size('a');
    const editGen = kind === 'jpeg-edited' ? 1 : 0;
    if (editGen) sizes.resJPEGFull = this.editSizeOf(i, 1);
    return {
      index: i,
      zone: o.zone,
      assetId: uuidFrom(o.seed, o.zone, 'asset', i),
      masterId: fingerprintFrom(o.seed, o.zone, 'master', i),
      filename,
      filenameType,
      kind,
      assetDate,
      addedDate: assetDate + 60_000 + (h32(o.seed, i, 'a') % 86_400_000),
      tzOffset: i % 3 === 0 ? 3600 : i % 3 === 1 ? -5 * 3600 : 0,
      hidden: i % 97 === 50,
      deleted: i % 89 === 30,
      purged: false,
      editGen,
      sizes,
      assetTag: 1,
      masterTag: 1,
      modifiedAt: assetDate,
      ...overrides,
    };
  }

  private pushAsset(a: AssetState): void {
    this.nextIndex = Math.max(this.nextIndex, a.index + 1);
    this.assets.push(a);
    this.byAssetId.set(a.assetId, a);
    this.byMasterId.set(a.masterId, a);
    this.touch(`M:${a.masterId}`);
    this.touch(`A:${a.assetId}`);
    this.visibleCache = undefined;
  }

  private seedAlbums(): void {
    const mk = (name: string, albumType: 0 | 3, every: number, parentId?: string): AlbumState => {
      const album: AlbumState = {
        recordName: uuidFrom(this.opts.seed, 'album', this.albums.length),
        name,
        albumType,
        parentId,
        position: this.albums.length * 1024,
        deleted: false,
        members: new Set(),
      };
      if (every > 0) {
        for (const a of this.assets)
          if (a.index % every === 1 && !a.deleted && !a.hidden) album.members.add(a.assetId);
      }
      this.albums.push(album);
      this.touch(`L:${album.recordName}`);
      for (const m of album.members) this.touch(`R:${m}-IN-${album.recordName}`);
      return album;
    };
    mk('Holiday', 0, 3);
    mk('Family', 0, 4);
    mk('Holiday', 0, 5); // same name as another album: must be disambiguated
    const trips = mk('Trips', 3, 0);
    mk('Paris', 0, 6, trips.recordName);
  }

  touch(key: string): void {
    this.seq++;
    this.log.push({ seq: this.seq, key });
    this.latest.set(key, this.seq);
  }

  /** Visible (not hidden, not deleted) assets sorted by capture date: the startRank order. */
  visible(): AssetState[] {
    this.visibleCache ??= this.assets
      .filter((a) => !a.hidden && !a.deleted && !a.purged)
      .sort((x, y) => x.assetDate - y.assetDate || (x.assetId < y.assetId ? -1 : 1));
    return this.visibleCache;
  }

  invalidate(): void {
    this.visibleCache = undefined;
  }

  albumMembers(albumId: string): AssetState[] {
    const album = this.albums.find((a) => a.recordName === albumId);
    if (!album) return [];
    return this.visible().filter((a) => album.members.has(a.assetId));
  }

  /** The album's live members in their position in the album (the order they were added). */
  albumMembersByPosition(albumId: string): AssetState[] {
    const album = this.albums.find((a) => a.recordName === albumId);
    if (!album) return [];
    const live = new Map(this.visible().map((a) => [a.assetId, a]));
    return [...album.members].map((id) => live.get(id)).filter((a) => a !== undefined);
  }

  /** Keys changed after `since`, in log order, at most `limit` log entries scanned. */
  changesSince(since: number, limit: number): { keys: string[]; last: number; more: boolean } {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid]!.seq <= since) lo = mid + 1;
      else hi = mid;
    }
    const keys: string[] = [];
    let last = since;
    let scanned = 0;
    let i = lo;
    for (; i < this.log.length && keys.length < limit && scanned < limit * 2; i++, scanned++) {
      const e = this.log[i]!;
      last = e.seq;
      if (this.latest.get(e.key) === e.seq) keys.push(e.key);
    }
    return { keys, last, more: i < this.log.length };
  }

  addAsset(overrides: Partial<AssetState> = {}): AssetState {
    const i = this.nextIndex;
    const now = overrides.assetDate ?? Date.now();
    const a = this.generate(i, {
      assetDate: now,
      addedDate: Math.max(now, Date.now()),
      modifiedAt: Date.now(),
      hidden: false,
      deleted: false,
      ...overrides,
    });
    this.pushAsset(a);
    return a;
  }

  /**
   * An asset built like `addAsset` but not yet in the library: the upload flow hands out its
   * record names at putAsset and publishes it (`commit`) only after the indexing delay.
   */
  prepare(overrides: Partial<AssetState>): AssetState {
    const a = this.generate(this.nextIndex++, {
      hidden: false,
      deleted: false,
      editGen: 0,
      ...overrides,
    });
    return a;
  }

  commit(a: AssetState): void {
    this.pushAsset(a);
  }

  editAsset(assetId: string): AssetState {
    const a = this.mustGet(assetId);
    a.editGen++;
    a.sizes.resJPEGFull = this.editSizeOf(a.index, a.editGen);
    a.assetTag++;
    a.modifiedAt = Date.now();
    this.touch(`A:${a.assetId}`); // edits touch only the CPLAsset
    return a;
  }

  /** Moves to Recently Deleted (trash), or purges for good (tombstones). */
  deleteAsset(assetId: string, purge = false): AssetState {
    const a = this.mustGet(assetId);
    if (purge) a.purged = true;
    else a.deleted = true;
    a.assetTag++;
    a.masterTag++;
    this.visibleCache = undefined;
    this.touch(`M:${a.masterId}`);
    this.touch(`A:${a.assetId}`);
    for (const album of this.albums) {
      if (album.members.delete(a.assetId)) this.touch(`R:${a.assetId}-IN-${album.recordName}`);
    }
    return a;
  }

  /** Size of the rendered edit of generation `gen` (old generations stay downloadable). */
  editSizeOf(index: number, gen: number): number {
    const o = this.opts;
    return (
      o.minFileSize + (h32(o.seed, o.zone, index, 'e', gen) % (o.maxFileSize - o.minFileSize + 1))
    );
  }

  mustGet(assetId: string): AssetState {
    const a = this.byAssetId.get(assetId);
    if (!a) throw new Error(`no asset ${assetId}`);
    return a;
  }

  extOf(a: AssetState, variant: ResourceVariant): string {
    if (a.upload && variant === 'resOriginal') return a.upload.ext;
    switch (variant) {
      case 'resOriginal':
        return {
          'heic-live': 'HEIC',
          jpeg: 'JPG',
          png: 'PNG',
          mov: 'MOV',
          'raw-jpeg': 'JPG',
          dng: 'DNG',
          'jpeg-edited': 'JPG',
        }[a.kind];
      case 'resOriginalAlt':
        return 'CR2';
      case 'resOriginalVidCompl':
        return 'MOV';
      case 'resJPEGFull':
        return 'JPG';
    }
  }
}

/** The deterministic bytes of one resource generation, any range, without storing them. */
export function resourceKey(
  seed: string,
  zone: string,
  index: number,
  variant: ResourceVariant,
  gen: number,
): Buffer {
  return createHash('sha256')
    .update(`${seed}|${zone}|${index}|${variant}|${gen}`)
    .digest()
    .subarray(0, 16);
}

export function resourceBytes(key: Buffer, offset: number, length: number): Buffer {
  const block = Math.floor(offset / 16);
  const iv = Buffer.alloc(16);
  // 64-bit block counter in the low half is plenty for any file size used here.
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const skip = offset - block * 16;
  const out = cipher.update(Buffer.alloc(skip + length));
  return out.subarray(skip);
}
