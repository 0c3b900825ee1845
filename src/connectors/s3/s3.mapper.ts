import type { Entry } from '../connector.js';
import type { HashSet } from '../hashing/hash-kinds.js';
import { baseName } from '../path.js';

/** User metadata keys this connector writes (S3 sends them as x-amz-meta-<key>). */
export const META_SHA256 = 'cbe-sha256';
export const META_MTIME = 'cbe-mtime';

/** Connector path <-> object keys under the account's prefix. */
export class S3Keys {
  constructor(private readonly prefix: string) {}

  /** Key of a file at `rel` ('' is never a file). */
  file(rel: string): string {
    return this.prefix === '' ? rel : rel === '' ? this.prefix : `${this.prefix}/${rel}`;
  }

  /** Prefix under which the children of folder `rel` live: 'a/b/' ('' for the bucket root). */
  folder(rel: string): string {
    const k = this.file(rel);
    return k === '' ? '' : `${k}/`;
  }

  /** Connector path of a key or common prefix (a trailing '/' is dropped). */
  pathOf(key: string): string {
    const k = key.endsWith('/') ? key.slice(0, -1) : key;
    return this.prefix === '' ? k : k.slice(this.prefix.length + 1);
  }
}

/** A plain-MD5 ETag: 32 hex digits, no '-N' multipart suffix. */
export function md5FromEtag(etag: string | undefined): string | undefined {
  const v = etag?.replace(/"/g, '').toLowerCase();
  return v && /^[0-9a-f]{32}$/.test(v) ? v : undefined;
}

/** SSE-KMS and SSE-C objects have ETags that are not the MD5 of the content. */
export function etagIsMd5(serverSideEncryption: string | undefined, sseCustomer?: string): boolean {
  return !sseCustomer && (serverSideEncryption === undefined || serverSideEncryption === 'AES256');
}

export interface ObjectFacts {
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
  metadata?: Record<string, string>;
  /** False when the ETag is known not to be an MD5 (SSE-KMS, SSE-C). */
  etagIsMd5?: boolean;
}

export function fileEntry(path: string, o: ObjectFacts): Entry {
  const hashes: HashSet = {};
  const md5 = o.etagIsMd5 === false ? undefined : md5FromEtag(o.etag);
  if (md5) hashes.md5 = md5;
  const sha = o.metadata?.[META_SHA256];
  if (sha && /^[0-9a-f]{64}$/.test(sha)) hashes.sha256 = sha;
  return {
    path,
    name: baseName(path),
    kind: 'file',
    size: o.size,
    modifiedAt: o.lastModified,
    hashes,
    extras: o.etag ? { etag: o.etag.replace(/"/g, '') } : undefined,
  };
}

export function folderEntry(path: string): Entry {
  return { path, name: path === '' ? '' : baseName(path), kind: 'folder', hashes: {} };
}
