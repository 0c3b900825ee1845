import type { ConnectorPath, Entry } from '../connector.js';
import type { HashSet } from '../hashing/hash-kinds.js';
import { baseName } from '../path.js';
import type { GraphDriveItem } from './api/types.js';

/** driveItem fields the connector asks for ($select). */
export const ITEM_SELECT = [
  'id',
  'name',
  'size',
  'file',
  'folder',
  'package',
  'root',
  'deleted',
  'parentReference',
  'eTag',
  'cTag',
  'lastModifiedDateTime',
  'fileSystemInfo',
].join(',');

export function isFolderItem(item: GraphDriveItem): boolean {
  return item.folder !== undefined || item.root !== undefined || item.package !== undefined;
}

/** Hashes as the provider reports them: quickXor stays base64, hex kinds lowercased. */
export function hashesOf(item: GraphDriveItem): HashSet {
  const h = item.file?.hashes;
  const out: HashSet = {};
  if (h?.quickXorHash) out.quickXor = h.quickXorHash;
  if (h?.sha1Hash) out.sha1 = h.sha1Hash.toLowerCase();
  // Documented as unsupported and often missing (protocols/onedrive.md section 3): kept when present.
  if (h?.sha256Hash) out.sha256 = h.sha256Hash.toLowerCase();
  return out;
}

/** A driveItem as an Entry at `path` (the connector knows the path it asked for). */
export function toEntry(item: GraphDriveItem, path: ConnectorPath): Entry {
  const folder = isFolderItem(item);
  const modified = item.fileSystemInfo?.lastModifiedDateTime ?? item.lastModifiedDateTime;
  const extras: Record<string, unknown> = {};
  if (item.eTag) extras.eTag = item.eTag;
  if (item.cTag) extras.cTag = item.cTag;
  if (item.parentReference?.driveId) extras.driveId = item.parentReference.driveId;
  if (item.file?.mimeType) extras.mimeType = item.file.mimeType;
  if (item.package?.type) extras.package = item.package.type;
  return {
    path,
    name: path === '' ? '' : baseName(path),
    kind: folder ? 'folder' : 'file',
    id: item.id,
    size: folder ? undefined : (item.size ?? 0),
    modifiedAt: modified ? new Date(modified) : undefined,
    hashes: folder ? {} : hashesOf(item),
    extras,
  };
}
