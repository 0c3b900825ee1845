import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driveErrors } from './drive-errors.js';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
export const DOC_MIME = 'application/vnd.google-apps.document';
export const SHEET_MIME = 'application/vnd.google-apps.spreadsheet';
export const SLIDES_MIME = 'application/vnd.google-apps.presentation';
export const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX_MIME =
  'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** Export targets per Google-native type, as `about.exportFormats` lists them at Google. */
export const EXPORT_FORMATS: Record<string, readonly string[]> = {
  [DOC_MIME]: [
    DOCX_MIME,
    'application/vnd.oasis.opendocument.text',
    'application/rtf',
    'application/pdf',
    'text/plain',
    'application/zip',
    'application/epub+zip',
    'text/markdown',
    'text/html',
  ],
  [SHEET_MIME]: [
    XLSX_MIME,
    'application/x-vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.spreadsheet',
    'application/pdf',
    'application/zip',
    'text/csv',
    'text/tab-separated-values',
  ],
  [SLIDES_MIME]: [
    PPTX_MIME,
    'application/vnd.oasis.opendocument.presentation',
    'application/pdf',
    'text/plain',
  ],
  'application/vnd.google-apps.drawing': [
    'image/svg+xml',
    'image/png',
    'application/pdf',
    'image/jpeg',
  ],
  'application/vnd.google-apps.script': ['application/vnd.google-apps.script+json'],
  'application/vnd.google-apps.form': ['application/zip'],
  'application/vnd.google-apps.jam': ['application/pdf'],
  'application/vnd.google-apps.site': ['text/plain'],
};

/** Upload conversions Google offers (`about.importFormats`): source type to native type. */
export const IMPORT_FORMATS: Record<string, readonly string[]> = {
  'application/msword': [DOC_MIME],
  [DOCX_MIME]: [DOC_MIME],
  'application/vnd.oasis.opendocument.text': [DOC_MIME],
  'application/rtf': [DOC_MIME],
  'text/plain': [DOC_MIME],
  'text/html': [DOC_MIME],
  'text/markdown': [DOC_MIME],
  'application/vnd.ms-excel': [SHEET_MIME],
  [XLSX_MIME]: [SHEET_MIME],
  'application/vnd.oasis.opendocument.spreadsheet': [SHEET_MIME],
  'text/csv': [SHEET_MIME],
  'text/tab-separated-values': [SHEET_MIME],
  'application/vnd.ms-powerpoint': [SLIDES_MIME],
  [PPTX_MIME]: [SLIDES_MIME],
  'application/vnd.oasis.opendocument.presentation': [SLIDES_MIME],
  'image/png': [DOC_MIME],
  'image/jpeg': [DOC_MIME],
  'application/pdf': [DOC_MIME],
};

/** Bytes of one revision, in a file under the emulator's temp dir. */
export interface StoredBlob {
  path: string;
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
}

export interface StoredFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  createdTime: string;
  modifiedTime: string;
  trashed: boolean;
  explicitlyTrashed: boolean;
  driveId?: string;
  version: number;
  headRevisionId?: string;
  blob?: StoredBlob;
  /** Text a Google-native document "contains"; exports wrap it. */
  nativeText?: string;
  starred?: boolean;
  description?: string;
  properties?: Record<string, string>;
  appProperties?: Record<string, string>;
}

export interface SharedDrive {
  id: string;
  name: string;
  createdTime: string;
}

export interface ChangeRecord {
  token: number;
  fileId: string;
  driveId?: string;
  time: string;
  removed: boolean;
}

/** The writable metadata beyond name/parents/times: starred, description, (app)properties. */
export interface WritableMetadata {
  starred?: unknown;
  description?: unknown;
  properties?: unknown;
  appProperties?: unknown;
}

/**
 * Applies starred/description/properties/appProperties as files.create and files.update do: a
 * property set to null is removed, the others are merged into the map.
 */
export function applyWritableMetadata(f: StoredFile, meta: WritableMetadata): void {
  if (typeof meta.starred === 'boolean') f.starred = meta.starred;
  if (typeof meta.description === 'string') f.description = meta.description;
  for (const key of ['properties', 'appProperties'] as const) {
    const patch = meta[key];
    if (patch === undefined || patch === null) continue;
    if (typeof patch !== 'object' || Array.isArray(patch)) throw driveErrors.invalid(key);
    const map: Record<string, string> = { ...(f[key] ?? {}) };
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
      if (v === null) delete map[k];
      else map[k] = String(v);
    }
    f[key] = map;
  }
}

export function isNative(mimeType: string): boolean {
  return mimeType.startsWith('application/vnd.google-apps.');
}

export function newId(prefix = '1'): string {
  return prefix + randomBytes(24).toString('base64url').slice(0, 32);
}

/** Incremental md5/sha1/sha256 of stored bytes. */
export class BlobHasher {
  private readonly md5: Hash = createHash('md5');
  private readonly sha1: Hash = createHash('sha1');
  private readonly sha256: Hash = createHash('sha256');
  update(b: Buffer): void {
    this.md5.update(b);
    this.sha1.update(b);
    this.sha256.update(b);
  }
  digest(): { md5: string; sha1: string; sha256: string } {
    return {
      md5: this.md5.digest('hex'),
      sha1: this.sha1.digest('hex'),
      sha256: this.sha256.digest('hex'),
    };
  }
}

/** Feeds bytes [from, to) of a file into the hasher, streaming. */
export async function hashFileRange(
  path: string,
  from: number,
  to: number,
  h: BlobHasher,
): Promise<void> {
  if (to <= from) return;
  for await (const chunk of createReadStream(path, {
    start: from,
    end: to - 1,
    highWaterMark: 1 << 20,
  })) {
    h.update(chunk as Buffer);
  }
}

/**
 * The fake Drive's state: files by id with a child index, shared drives, blobs in a temp dir and a
 * change log. Single-threaded (one event loop), so no locking.
 */
export class DriveStore {
  readonly rootId = newId('0A');
  readonly files = new Map<string, StoredFile>();
  readonly drives = new Map<string, SharedDrive>();
  readonly changes: ChangeRecord[] = [];
  /** First change token still accepted by changes.list (control can move it forward). */
  minValidToken = 1;
  private nextToken = 1;
  private readonly children = new Map<string, Set<string>>();
  private clockMs = Date.parse('2024-01-01T00:00:00.000Z');

  private constructor(readonly dir: string) {
    this.files.set(this.rootId, this.containerRecord(this.rootId, 'My Drive'));
  }

  /** Root folders (My Drive, shared drives) are files without parents; changes never list them. */
  private containerRecord(id: string, name: string, driveId?: string): StoredFile {
    const t = new Date(this.clockMs).toISOString();
    return {
      id,
      name,
      mimeType: FOLDER_MIME,
      parents: [],
      createdTime: t,
      modifiedTime: t,
      trashed: false,
      explicitlyTrashed: false,
      driveId,
      version: 1,
    };
  }

  static async create(): Promise<DriveStore> {
    return new DriveStore(await mkdtemp(join(tmpdir(), 'gdrive-emu-')));
  }

  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Strictly increasing timestamps (ms precision, like Drive's RFC 3339 values). */
  now(): string {
    this.clockMs = Math.max(this.clockMs + 1, Date.now());
    return new Date(this.clockMs).toISOString();
  }

  blobPath(): string {
    return join(this.dir, `blob-${randomBytes(9).toString('hex')}`);
  }

  get startPageToken(): number {
    return this.nextToken;
  }

  /** Every change token handed out so far becomes invalid (as after Drive dropped old history). */
  invalidateTokens(): void {
    this.nextToken++;
    this.minValidToken = this.nextToken;
  }

  /** Resolves `root` and shared drive ids (a shared drive's root folder has the drive's id). */
  isContainer(id: string): boolean {
    return id === this.rootId || this.drives.has(id);
  }

  canonicalId(id: string): string {
    return id === 'root' ? this.rootId : id;
  }

  /** A live (not deleted) file, or 404. Shared drive items need supportsAllDrives. */
  get(id: string, supportsAllDrives: boolean): StoredFile {
    const f = this.files.get(this.canonicalId(id));
    if (!f || (f.driveId && !supportsAllDrives)) throw driveErrors.notFound(id);
    return f;
  }

  /** Bytes stored in My Drive (shared drives have their own quota), and the trashed part. */
  usage(): { usageInDrive: number; usageInDriveTrash: number } {
    let usageInDrive = 0;
    let usageInDriveTrash = 0;
    for (const f of this.files.values()) {
      if (f.driveId || !f.blob) continue;
      usageInDrive += f.blob.size;
      if (f.trashed) usageInDriveTrash += f.blob.size;
    }
    return { usageInDrive, usageInDriveTrash };
  }

  childIds(parentId: string): string[] {
    return [...(this.children.get(parentId) ?? [])];
  }

  addSharedDrive(name: string): SharedDrive {
    const d: SharedDrive = { id: newId('0A'), name, createdTime: this.now() };
    this.drives.set(d.id, d);
    this.files.set(d.id, this.containerRecord(d.id, name, d.id));
    return d;
  }

  /** Drive id of a parent (undefined for My Drive). Throws 404 for an unknown parent. */
  driveOf(parentId: string, supportsAllDrives: boolean): string | undefined {
    const id = this.canonicalId(parentId);
    if (id === this.rootId) return undefined;
    if (this.drives.has(id)) {
      if (!supportsAllDrives) throw driveErrors.notFound(parentId);
      return id;
    }
    const p = this.get(id, supportsAllDrives);
    if (p.mimeType !== FOLDER_MIME) {
      throw driveErrors.badRequest('The specified parent is not a folder.');
    }
    return p.driveId;
  }

  insert(input: {
    name: string;
    mimeType: string;
    parentId: string;
    driveId?: string;
    blob?: StoredBlob;
    modifiedTime?: string;
    createdTime?: string;
    nativeText?: string;
  }): StoredFile {
    const now = this.now();
    const f: StoredFile = {
      id: newId(),
      name: input.name,
      mimeType: input.mimeType,
      parents: [this.canonicalId(input.parentId)],
      createdTime: input.createdTime ?? now,
      modifiedTime: input.modifiedTime ?? now,
      trashed: false,
      explicitlyTrashed: false,
      driveId: input.driveId,
      version: 1,
      headRevisionId: input.blob ? newId('0B') : undefined,
      blob: input.blob,
      nativeText: input.nativeText,
    };
    this.files.set(f.id, f);
    this.link(f);
    this.recordChange(f, false);
    return f;
  }

  async replaceContent(f: StoredFile, blob: StoredBlob, modifiedTime?: string): Promise<void> {
    const old = f.blob;
    f.blob = blob;
    f.headRevisionId = newId('0B');
    f.modifiedTime = modifiedTime ?? this.now();
    f.version++;
    this.recordChange(f, false);
    if (old) await unlink(old.path).catch(() => undefined);
  }

  touch(f: StoredFile): void {
    f.version++;
    this.recordChange(f, false);
  }

  setParents(f: StoredFile, parents: string[]): void {
    this.unlink(f);
    f.parents = parents.map((p) => this.canonicalId(p));
    this.link(f);
  }

  /** Permanent delete; a folder takes its descendants with it. */
  async remove(f: StoredFile): Promise<void> {
    for (const childId of this.childIds(f.id)) {
      const child = this.files.get(childId);
      if (child) await this.remove(child);
    }
    this.unlink(f);
    this.files.delete(f.id);
    this.recordChange(f, true);
    if (f.blob) await unlink(f.blob.path).catch(() => undefined);
  }

  /** Trash state propagates to descendants (implicitly trashed). */
  setTrashed(f: StoredFile, trashed: boolean, explicit = true): void {
    f.trashed = trashed;
    f.explicitlyTrashed = trashed && explicit;
    f.version++;
    this.recordChange(f, false);
    for (const childId of this.childIds(f.id)) {
      const child = this.files.get(childId);
      if (child && !child.explicitlyTrashed) this.setTrashed(child, trashed, false);
    }
  }

  async copyBlob(blob: StoredBlob): Promise<StoredBlob> {
    const path = this.blobPath();
    await link(blob.path, path);
    return { ...blob, path };
  }

  async blobFromBuffer(data: Buffer): Promise<StoredBlob> {
    const path = this.blobPath();
    await writeFile(path, data);
    const h = new BlobHasher();
    h.update(data);
    return { path, size: data.length, ...h.digest() };
  }

  /** Changes with token >= from, deduplicated per file (the last one wins), in token order. */
  changesSince(from: number): ChangeRecord[] {
    return this.changes.filter((c) => c.token >= from);
  }

  private recordChange(f: StoredFile, removed: boolean): void {
    const token = this.nextToken++;
    // Drive keeps one change per file: the newest replaces older ones not yet consumed.
    const i = this.changes.findIndex((c) => c.fileId === f.id);
    if (i >= 0) this.changes.splice(i, 1);
    this.changes.push({ token, fileId: f.id, driveId: f.driveId, time: this.now(), removed });
  }

  private link(f: StoredFile): void {
    for (const p of f.parents) {
      let set = this.children.get(p);
      if (!set) this.children.set(p, (set = new Set()));
      set.add(f.id);
    }
  }

  private unlink(f: StoredFile): void {
    for (const p of f.parents) this.children.get(p)?.delete(f.id);
  }
}
