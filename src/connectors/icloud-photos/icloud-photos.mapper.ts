import type { Entry } from '../connector.js';
import { MAX_NAME_BYTES } from '../path.js';
import type { CkRecord, CkResourceValue, CkZoneRef } from './api/types.js';
import type { CkDb } from './icloud-photos.client.js';

/** Which resource of an asset a file is. */
export type PhotoVariant = 'original' | 'alt' | 'live' | 'edited';

const VARIANT_FIELD: Record<PhotoVariant, string> = {
  original: 'resOriginal',
  alt: 'resOriginalAlt',
  live: 'resOriginalVidCompl',
  edited: 'resJPEGFull',
};

export interface PhotoResource {
  size: number;
  fileType?: string;
  fileChecksum?: string;
  downloadURL: string;
  /** When the URL was obtained (they expire after about an hour). */
  fetchedAt: number;
}

export interface LibraryZone {
  db: CkDb;
  zoneID: CkZoneRef;
  /** Top folder of this library: 'All Photos' or 'Shared Library'. */
  root: string;
}

export interface PhotoAsset {
  zone: LibraryZone;
  assetId: string;
  masterId: string;
  filename: string;
  itemType?: string;
  assetDate: number;
  addedDate: number;
  tzOffsetSec: number;
  modifiedAt: number;
  isDeleted: boolean;
  isHidden: boolean;
  isEdited: boolean;
  resources: Partial<Record<PhotoVariant, PhotoResource>>;
}

/** A file of the tree: one resource of one asset under a unique name in its folder. */
export interface PhotoFile {
  path: string;
  name: string;
  asset: PhotoAsset;
  variant: PhotoVariant;
}

export const UTI_EXTENSIONS: Record<string, string> = {
  'public.heic': 'HEIC',
  'public.heif': 'HEIF',
  'public.jpeg': 'JPG',
  'public.png': 'PNG',
  'public.tiff': 'TIFF',
  'com.compuserve.gif': 'GIF',
  'org.webmproject.webp': 'WEBP',
  'com.apple.quicktime-movie': 'MOV',
  'public.mpeg-4': 'MP4',
  'com.adobe.raw-image': 'DNG',
  'com.canon.cr2-raw-image': 'CR2',
  'com.canon.cr3-raw-image': 'CR3',
  'com.canon.crw-raw-image': 'CRW',
  'com.sony.arw-raw-image': 'ARW',
  'com.nikon.raw-image': 'NEF',
  'com.nikon.nrw-raw-image': 'NRW',
  'com.fuji.raw-image': 'RAF',
  'com.olympus.raw-image': 'ORF',
  'com.olympus.or-raw-image': 'ORF',
  'com.panasonic.rw2-raw-image': 'RW2',
  'com.pentax.raw-image': 'PEF',
};

export function extensionForUti(uti: string | undefined): string {
  if (!uti) return 'BIN';
  return UTI_EXTENSIONS[uti] ?? 'BIN';
}

/** Fields the connector asks for (CloudKit returns only desiredKeys). */
export const DESIRED_KEYS = [
  'masterRef',
  'filenameEnc',
  'itemType',
  'resOriginalRes',
  'resOriginalFileType',
  'resOriginalAltRes',
  'resOriginalAltFileType',
  'resOriginalVidComplRes',
  'resOriginalVidComplFileType',
  'resJPEGFullRes',
  'resJPEGFullFileType',
  'resVidFullRes',
  'resVidFullFileType',
  'assetDate',
  'addedDate',
  'timeZoneOffset',
  'isDeleted',
  'isHidden',
  'adjustmentType',
  'recordName',
  'containerId',
  'itemId',
];

function num(r: CkRecord | undefined, field: string): number | undefined {
  const v = r?.fields?.[field]?.value;
  return typeof v === 'number' ? v : undefined;
}

function str(r: CkRecord | undefined, field: string): string | undefined {
  const v = r?.fields?.[field]?.value;
  return typeof v === 'string' ? v : undefined;
}

/** Filename from `filenameEnc` (base64 UTF-8, or plain STRING), else synthesized from the recordName. */
export function decodeFilename(master: CkRecord): string {
  const f = master.fields?.filenameEnc;
  let name: string | undefined;
  if (f && typeof f.value === 'string') {
    name = f.type === 'STRING' ? f.value : Buffer.from(f.value, 'base64').toString('utf8');
  }
  if (!name || name.trim() === '') {
    const stem = master.recordName.replace(/[^A-Za-z0-9]/g, '_').slice(0, 24);
    name = `${stem}.${extensionForUti(str(master, 'itemType'))}`;
  }
  return sanitizeName(name);
}

/** Makes a provider name a valid contract name: no '/', '\\', control chars, <= 255 bytes. */
export function sanitizeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let out = name.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim();
  if (out === '' || out === '.' || out === '..') out = '_';
  while (Buffer.byteLength(out, 'utf8') > MAX_NAME_BYTES - 24) out = out.slice(0, -1);
  return out;
}

/**
 * Builds an asset from its CPLAsset and CPLMaster. Resource fields are looked up on the asset
 * first, then the master (edits live on the asset). Undefined when the pair has no original.
 */
export function toPhotoAsset(
  zone: LibraryZone,
  asset: CkRecord,
  master: CkRecord,
  now: number,
): PhotoAsset | undefined {
  const resources: PhotoAsset['resources'] = {};
  for (const [variant, field] of Object.entries(VARIANT_FIELD) as Array<[PhotoVariant, string]>) {
    const holder = asset.fields?.[`${field}Res`] ? asset : master;
    const v = holder.fields?.[`${field}Res`]?.value as CkResourceValue | undefined;
    if (!v?.downloadURL || typeof v.size !== 'number') continue;
    resources[variant] = {
      size: v.size,
      fileType: str(holder, `${field}FileType`),
      fileChecksum: v.fileChecksum,
      downloadURL: v.downloadURL,
      fetchedAt: now,
    };
  }
  // Edited videos carry their rendition in resVidFull instead of resJPEGFull.
  if (!resources.edited) {
    const v = asset.fields?.resVidFullRes?.value as CkResourceValue | undefined;
    if (v?.downloadURL && typeof v.size === 'number') {
      resources.edited = {
        size: v.size,
        fileType: str(asset, 'resVidFullFileType'),
        fileChecksum: v.fileChecksum,
        downloadURL: v.downloadURL,
        fetchedAt: now,
      };
    }
  }
  if (!resources.original) return undefined; // some records lack resOriginalRes (icloudpd #1261)
  const assetDate = num(asset, 'assetDate') ?? asset.created?.timestamp ?? 0;
  return {
    zone,
    assetId: asset.recordName,
    masterId: master.recordName,
    filename: decodeFilename(master),
    itemType: str(master, 'itemType'),
    assetDate,
    addedDate: num(asset, 'addedDate') ?? assetDate,
    tzOffsetSec: num(asset, 'timeZoneOffset') ?? 0,
    modifiedAt: asset.modified?.timestamp ?? assetDate,
    isDeleted: num(asset, 'isDeleted') === 1 || num(master, 'isDeleted') === 1,
    isHidden: num(asset, 'isHidden') === 1,
    isEdited: str(asset, 'adjustmentType') !== undefined && resources.edited !== undefined,
    resources,
  };
}

export function masterRefOf(asset: CkRecord): string | undefined {
  const v = asset.fields?.masterRef?.value as { recordName?: string } | undefined;
  return v?.recordName;
}

/** 'YYYY/MM' of the capture date in the photo's own time zone. */
export function monthKey(a: PhotoAsset): string {
  const d = new Date(a.assetDate + a.tzOffsetSec * 1000);
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export interface VariantOptions {
  includeLivePhotoVideos: boolean;
  includeEdited: boolean;
}

function splitName(filename: string): [string, string] {
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? [filename.slice(0, dot), filename.slice(dot + 1)] : [filename, ''];
}

function matchCase(ext: string, like: string): string {
  return like !== '' && like === like.toLowerCase() ? ext.toLowerCase() : ext;
}

/** The file names of one asset for a given stem (before any disambiguation). */
function variantNames(
  a: PhotoAsset,
  stem: string,
  ext: string,
  opts: VariantOptions,
): Array<[PhotoVariant, string]> {
  const out: Array<[PhotoVariant, string]> = [['original', ext ? `${stem}.${ext}` : stem]];
  const alt = a.resources.alt;
  if (alt) {
    let altExt = matchCase(extensionForUti(alt.fileType), ext);
    if (altExt.toLowerCase() === ext.toLowerCase()) altExt = `alt.${altExt}`;
    out.push(['alt', `${stem}.${altExt}`]);
  }
  if (opts.includeLivePhotoVideos && a.resources.live) {
    out.push([
      'live',
      `${stem}.${matchCase(extensionForUti(a.resources.live.fileType ?? 'com.apple.quicktime-movie'), ext)}`,
    ]);
  }
  if (opts.includeEdited && a.isEdited && a.resources.edited) {
    out.push([
      'edited',
      `${stem}-edited.${matchCase(extensionForUti(a.resources.edited.fileType), ext)}`,
    ]);
  }
  return out;
}

/** The short, stable id suffix used to disambiguate: first 8 letters/digits of the asset id. */
export function shortId(assetId: string): string {
  return assetId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
}

/**
 * Names the files of one folder. Rule (stable across runs): assets are taken in import order
 * (addedDate, then asset id); an asset keeps its plain names (IMG_0001.HEIC, IMG_0001.MOV,
 * IMG_0001-edited.JPG) unless one of them is already taken (case-insensitively) in the folder,
 * in which case ALL its files get the suffix ' (<first 8 chars of the asset id>)', e.g.
 * 'IMG_0001 (4F3C2A1B).HEIC' and 'IMG_0001 (4F3C2A1B).MOV', so a Live Photo pair stays matched.
 * New imports sort last, so they never take a name an existing file already has.
 */
export function nameFolder(
  folder: string,
  assets: PhotoAsset[],
  opts: VariantOptions,
): PhotoFile[] {
  const sorted = [...assets].sort(
    (x, y) => x.addedDate - y.addedDate || (x.assetId < y.assetId ? -1 : 1),
  );
  const taken = new Set<string>();
  const files: PhotoFile[] = [];
  for (const a of sorted) {
    const [stem, ext] = splitName(a.filename);
    let names = variantNames(a, stem, ext, opts);
    if (names.some(([, n]) => taken.has(n.toLowerCase()))) {
      names = variantNames(a, `${stem} (${shortId(a.assetId)})`, ext, opts);
      if (names.some(([, n]) => taken.has(n.toLowerCase())))
        names = variantNames(a, `${stem} (${a.assetId.replace(/[^A-Za-z0-9]/g, '')})`, ext, opts);
    }
    for (const [variant, name] of names) {
      taken.add(name.toLowerCase());
      files.push({ path: folder === '' ? name : `${folder}/${name}`, name, asset: a, variant });
    }
  }
  return files;
}

export function fileEntry(f: PhotoFile): Entry {
  const a = f.asset;
  const res = a.resources[f.variant]!;
  return {
    path: f.path,
    name: f.name,
    kind: 'file',
    id: `${a.assetId}/${f.variant}`,
    size: res.size,
    // Originals never change: their time is the capture time. An edit is as old as the asset record.
    modifiedAt: new Date(f.variant === 'edited' ? a.modifiedAt : a.assetDate),
    hashes: {},
    extras: {
      assetId: a.assetId,
      masterId: a.masterId,
      zone: a.zone.zoneID.zoneName,
      captureDate: new Date(a.assetDate).toISOString(),
      mediaType: res.fileType ?? a.itemType,
      variant: f.variant,
      // Opaque version id (MMCS signature, not a content hash): changes when the bytes change.
      version: res.fileChecksum,
      livePhoto: a.resources.live !== undefined,
    },
  };
}

export function folderEntry(path: string): Entry {
  const i = path.lastIndexOf('/');
  return { path, name: i < 0 ? path : path.slice(i + 1), kind: 'folder', hashes: {} };
}
