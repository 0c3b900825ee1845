import type { drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import type { Entry } from '../connector.js';
import type { HashSet } from '../hashing/hash-kinds.js';
import type { ExportFormat } from './google-drive.options.js';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
export const SHORTCUT_MIME = 'application/vnd.google-apps.shortcut';

/** Fields asked for on every file: v3 returns only kind,id,name,mimeType otherwise. */
export const FILE_FIELDS =
  'id,name,mimeType,parents,size,modifiedTime,createdTime,md5Checksum,sha1Checksum,sha256Checksum,' +
  'headRevisionId,version,trashed,driveId';

/** Google-native types we can export, with the office format each becomes. */
export const NATIVE_EXPORTS: Record<string, { format: ExportFormat; mimeType: string }> = {
  'application/vnd.google-apps.document': {
    format: 'docx',
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  },
  'application/vnd.google-apps.spreadsheet': {
    format: 'xlsx',
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  },
  'application/vnd.google-apps.presentation': {
    format: 'pptx',
    mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  },
};

export function isGoogleNative(mimeType: string | null | undefined): boolean {
  return (mimeType ?? '').startsWith('application/vnd.google-apps.') && mimeType !== FOLDER_MIME;
}

export function isFolder(f: drive_v3.Schema$File): boolean {
  return f.mimeType === FOLDER_MIME;
}

/** How a native document appears: exported under `name.ext`, or kept with a reason to skip it. */
export interface NativeView {
  name: string;
  exportMimeType?: string;
  skipReason?: string;
}

export function nativeView(f: drive_v3.Schema$File, formats: readonly ExportFormat[]): NativeView {
  const name = f.name ?? '';
  if (f.mimeType === SHORTCUT_MIME)
    return { name, skipReason: 'google-drive shortcut, not followed' };
  const exp = NATIVE_EXPORTS[f.mimeType ?? ''];
  if (!exp)
    return { name, skipReason: `google-native document (${f.mimeType}) with no export format` };
  if (!formats.includes(exp.format))
    return { name, skipReason: 'google-native document, export disabled' };
  return { name: `${name}.${exp.format}`, exportMimeType: exp.mimeType };
}

/** The name a Drive item has in connector paths. */
export function entryName(f: drive_v3.Schema$File, formats: readonly ExportFormat[]): string {
  return isGoogleNative(f.mimeType) ? nativeView(f, formats).name : (f.name ?? '');
}

/** Native type an exported name could come from (`Plan.docx` -> document), when that format is on. */
export function nativeSourceOf(
  name: string,
  formats: readonly ExportFormat[],
): { baseName: string; mimeType: string } | undefined {
  for (const [mimeType, exp] of Object.entries(NATIVE_EXPORTS)) {
    const suffix = `.${exp.format}`;
    if (formats.includes(exp.format) && name.endsWith(suffix) && name.length > suffix.length) {
      return { baseName: name.slice(0, -suffix.length), mimeType };
    }
  }
  return undefined;
}

export function hashesOf(f: drive_v3.Schema$File): HashSet {
  const h: HashSet = {};
  if (f.md5Checksum) h.md5 = f.md5Checksum.toLowerCase();
  if (f.sha1Checksum) h.sha1 = f.sha1Checksum.toLowerCase();
  if (f.sha256Checksum) h.sha256 = f.sha256Checksum.toLowerCase();
  return h;
}

/**
 * Drive file -> Entry. Native documents have no stable size (the one Drive reports matches no
 * export), so `size` stays undefined and the Drive figure goes to `extras.approximateSize`.
 */
export function toEntry(
  f: drive_v3.Schema$File,
  parent: string,
  formats: readonly ExportFormat[],
): Entry {
  const name = entryName(f, formats);
  const path = parent === '' ? name : `${parent}/${name}`;
  const modifiedAt = f.modifiedTime ? new Date(f.modifiedTime) : undefined;
  if (isFolder(f))
    return { path, name, kind: 'folder', id: f.id ?? undefined, modifiedAt, hashes: {} };
  if (isGoogleNative(f.mimeType)) {
    const view = nativeView(f, formats);
    const extras: Record<string, unknown> = { googleNative: true, nativeMimeType: f.mimeType };
    if (f.size) extras.approximateSize = Number(f.size);
    if (view.exportMimeType) extras.exportMimeType = view.exportMimeType;
    if (view.skipReason) extras.skipReason = view.skipReason;
    return { path, name, kind: 'file', id: f.id ?? undefined, modifiedAt, hashes: {}, extras };
  }
  const entry: Entry = {
    path,
    name,
    kind: 'file',
    id: f.id ?? undefined,
    size: f.size ? Number(f.size) : 0,
    modifiedAt,
    hashes: hashesOf(f),
  };
  if (f.headRevisionId) entry.extras = { headRevisionId: f.headRevisionId };
  return entry;
}

/** Quotes a value for the `q` language: single quotes, `'` and `\` escaped with a backslash. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
