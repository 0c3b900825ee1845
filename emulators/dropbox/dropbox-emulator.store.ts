import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentHash } from './content-hash.js';

/**
 * The emulated Dropbox namespace: a case-insensitive tree keyed by `path_lower` with the display
 * case kept per node, file bytes in blob files under a temp dir (GiB-sized files never sit in
 * memory), upload sessions as growing temp files, and a change log that list_folder cursors point
 * into.
 */

export interface FileNode {
  kind: 'file';
  id: string;
  name: string;
  pathDisplay: string;
  rev: string;
  size: number;
  contentHash: string;
  clientModified: string;
  serverModified: string;
  blob: string;
}

export interface FolderNode {
  kind: 'folder';
  id: string;
  name: string;
  pathDisplay: string;
}

export type Node = FileNode | FolderNode;

export type WireMetadata = Record<string, unknown> & { '.tag': 'file' | 'folder' | 'deleted' };

export interface ChangeEvent {
  seq: number;
  pathLower: string;
  metadata: WireMetadata;
}

export interface UploadSession {
  id: string;
  file: string;
  offset: number;
  closed: boolean;
  concurrent: boolean;
  createdAt: number;
  /** Concurrent sessions: offset -> length of each appended piece. */
  pieces: Map<number, number>;
}

/** A store error that the HTTP layer turns into a 409 with the given tag chain. */
export class StoreError extends Error {
  constructor(
    readonly error: Record<string, unknown>,
    readonly summary: string,
  ) {
    super(summary);
  }
}

export function lower(p: string): string {
  return p.toLowerCase();
}

export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '' : p.slice(0, i);
}

export function nameOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Dropbox timestamps: UTC, whole seconds. */
export function dropboxTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class DropboxStore {
  readonly nodes = new Map<string, Node>();
  private readonly children = new Map<string, Set<string>>([['', new Set()]]);
  private readonly byId = new Map<string, string>();
  private readonly byRev = new Map<string, FileNode>();
  readonly tombstones = new Map<string, WireMetadata>();
  readonly log: ChangeEvent[] = [];
  readonly sessions = new Map<string, UploadSession>();
  seq = 0;
  usedBytes = 0;
  quotaBytes = Number.MAX_SAFE_INTEGER;

  private constructor(readonly dir: string) {}

  static async create(): Promise<DropboxStore> {
    const dir = await mkdtemp(join(tmpdir(), 'cbe-dropbox-emu-'));
    await mkdir(join(dir, 'blobs'));
    await mkdir(join(dir, 'sessions'));
    await mkdir(join(dir, 'incoming'));
    return new DropboxStore(dir);
  }

  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  newIncomingFile(): string {
    return join(this.dir, 'incoming', randomBytes(8).toString('hex'));
  }

  // ---- lookups ---------------------------------------------------------------------------------

  /** Resolves '/a/b', 'id:...' or 'rev:...' to a node; undefined when nothing is there. */
  resolve(path: string): Node | undefined {
    if (path.startsWith('id:')) {
      const pl = this.byId.get(path);
      return pl === undefined ? undefined : this.nodes.get(pl);
    }
    if (path.startsWith('rev:')) return this.byRev.get(path.slice(4));
    return this.nodes.get(lower(path));
  }

  childrenOf(pathLower: string): string[] {
    return [...(this.children.get(pathLower) ?? [])];
  }

  /** Every node under `pathLower` (not itself), parents before children. */
  descendants(pathLower: string): string[] {
    const out: string[] = [];
    const walk = (pl: string) => {
      for (const c of this.children.get(pl) ?? []) {
        out.push(c);
        const n = this.nodes.get(c);
        if (n?.kind === 'folder') walk(c);
      }
    };
    walk(pathLower);
    return out;
  }

  metadata(n: Node): WireMetadata {
    if (n.kind === 'folder') {
      return {
        '.tag': 'folder',
        name: n.name,
        id: n.id,
        path_lower: lower(n.pathDisplay),
        path_display: n.pathDisplay,
      };
    }
    return {
      '.tag': 'file',
      name: n.name,
      id: n.id,
      client_modified: n.clientModified,
      server_modified: n.serverModified,
      rev: n.rev,
      size: n.size,
      path_lower: lower(n.pathDisplay),
      path_display: n.pathDisplay,
      is_downloadable: true,
      content_hash: n.contentHash,
    };
  }

  // ---- mutations -------------------------------------------------------------------------------

  /**
   * Makes sure every ancestor of `path` is a folder, creating the missing ones. Throws
   * conflict/file (as `errorKey`) when a file sits on the way.
   */
  private ensureParents(
    path: string,
    wrap: (reason: Record<string, unknown>, summary: string) => StoreError,
  ): string {
    const parts = path.split('/').slice(1, -1);
    let display = '';
    for (const part of parts) {
      const candidate = `${display}/${part}`;
      const existing = this.nodes.get(lower(candidate));
      if (existing?.kind === 'file') {
        throw wrap({ '.tag': 'conflict', conflict: { '.tag': 'file' } }, 'conflict/file');
      }
      if (!existing)
        this.insert({ kind: 'folder', id: newId(), name: part, pathDisplay: candidate });
      display = existing ? existing.pathDisplay : candidate;
    }
    return display;
  }

  private insert(n: Node): void {
    const pl = lower(n.pathDisplay);
    this.nodes.set(pl, n);
    this.byId.set(n.id, pl);
    const parent = parentOf(pl);
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(pl);
    if (n.kind === 'folder' && !this.children.has(pl)) this.children.set(pl, new Set());
    if (n.kind === 'file') this.byRev.set(n.rev, n);
    this.tombstones.delete(pl);
    this.record(pl, this.metadata(n));
  }

  private unlink(pl: string, logIt: boolean): Node | undefined {
    const n = this.nodes.get(pl);
    if (!n) return undefined;
    this.nodes.delete(pl);
    this.byId.delete(n.id);
    this.children.get(parentOf(pl))?.delete(pl);
    if (n.kind === 'folder') this.children.delete(pl);
    const tomb: WireMetadata = {
      '.tag': 'deleted',
      name: n.name,
      path_lower: pl,
      path_display: n.pathDisplay,
    };
    this.tombstones.set(pl, tomb);
    if (logIt) this.record(pl, tomb);
    return n;
  }

  private record(pathLower: string, metadata: WireMetadata): void {
    this.seq += 1;
    this.log.push({ seq: this.seq, pathLower, metadata });
  }

  createFolder(path: string): FolderNode {
    const wrap = (reason: Record<string, unknown>, summary: string) =>
      new StoreError({ '.tag': 'path', path: reason }, `path/${summary}`);
    const existing = this.nodes.get(lower(path));
    if (existing) {
      throw wrap(
        { '.tag': 'conflict', conflict: { '.tag': existing.kind } },
        `conflict/${existing.kind}`,
      );
    }
    const parentDisplay = this.ensureParents(path, wrap);
    const node: FolderNode = {
      kind: 'folder',
      id: newId(),
      name: nameOf(path),
      pathDisplay: `${parentDisplay}/${nameOf(path)}`,
    };
    this.insert(node);
    return node;
  }

  /**
   * Commits the bytes in `incoming` (a temp file this call takes over) to `path`.
   * `wrap` shapes a WriteError the way the calling route reports it.
   */
  async commitFile(
    path: string,
    incoming: string,
    opts: {
      mode: { '.tag': string; update?: string };
      autorename: boolean;
      clientModified?: string;
      now: Date;
      insufficientSpace: boolean;
      corrupt: boolean;
    },
    wrap: (reason: Record<string, unknown>, summary: string) => StoreError,
  ): Promise<FileNode> {
    const pl = lower(path);
    const existing = this.nodes.get(pl);
    const size = (await stat(incoming)).size;
    if (opts.corrupt && size > 0) await flipFirstByte(incoming);
    const contentHash = await hashFile(incoming);
    if (existing?.kind === 'folder') {
      await rm(incoming, { force: true });
      throw wrap({ '.tag': 'conflict', conflict: { '.tag': 'folder' } }, 'conflict/folder');
    }
    const mode = opts.mode['.tag'];
    let target = path;
    if (existing && existing.kind === 'file') {
      if (existing.contentHash === contentHash && mode !== 'overwrite') {
        await rm(incoming, { force: true });
        return existing; // Dropbox: identical content is not a conflict
      }
      if (mode === 'add' || (mode === 'update' && opts.mode.update !== existing.rev)) {
        if (!opts.autorename) {
          await rm(incoming, { force: true });
          throw wrap({ '.tag': 'conflict', conflict: { '.tag': 'file' } }, 'conflict/file');
        }
        target = this.freeName(path);
      }
    }
    const grow =
      size - (existing && target === path && existing.kind === 'file' ? existing.size : 0);
    if (opts.insufficientSpace || this.usedBytes + grow > this.quotaBytes) {
      await rm(incoming, { force: true });
      throw wrap({ '.tag': 'insufficient_space' }, 'insufficient_space');
    }
    let parentDisplay: string;
    try {
      parentDisplay = this.ensureParents(target, wrap);
    } catch (e) {
      await rm(incoming, { force: true });
      throw e;
    }
    const blob = join(this.dir, 'blobs', randomBytes(10).toString('hex'));
    await rename(incoming, blob);
    const old = this.nodes.get(lower(target));
    if (old?.kind === 'file') {
      this.usedBytes -= old.size;
      this.byRev.delete(old.rev);
      await rm(old.blob, { force: true });
    }
    const node: FileNode = {
      kind: 'file',
      id: old?.id ?? newId(),
      name: nameOf(target),
      pathDisplay: `${parentDisplay}/${nameOf(target)}`,
      rev: randomBytes(9).toString('hex'),
      size,
      contentHash,
      clientModified: opts.clientModified ?? dropboxTime(opts.now),
      serverModified: dropboxTime(opts.now),
      blob,
    };
    this.usedBytes += size;
    if (old) this.nodes.delete(lower(target)); // re-inserted below with the new rev
    this.insert(node);
    return node;
  }

  async remove(path: string): Promise<Node> {
    const n = this.resolve(path);
    if (!n) {
      throw new StoreError(
        { '.tag': 'path_lookup', path_lookup: { '.tag': 'not_found' } },
        'path_lookup/not_found',
      );
    }
    const pl = lower(n.pathDisplay);
    for (const d of this.descendants(pl).reverse()) {
      const gone = this.unlink(d, false);
      if (gone?.kind === 'file') await this.dropBlob(gone);
    }
    const gone = this.unlink(pl, true);
    if (gone?.kind === 'file') await this.dropBlob(gone);
    return n;
  }

  private async dropBlob(n: FileNode): Promise<void> {
    this.usedBytes -= n.size;
    this.byRev.delete(n.rev);
    await rm(n.blob, { force: true });
  }

  async copy(from: string, to: string, now: Date, insufficientSpace: boolean): Promise<Node> {
    const src = this.resolve(from);
    if (!src) {
      throw new StoreError(
        { '.tag': 'from_lookup', from_lookup: { '.tag': 'not_found' } },
        'from_lookup/not_found',
      );
    }
    const wrapTo = (reason: Record<string, unknown>, summary: string) =>
      new StoreError({ '.tag': 'to', to: reason }, `to/${summary}`);
    const existing = this.nodes.get(lower(to));
    if (existing)
      throw wrapTo(
        { '.tag': 'conflict', conflict: { '.tag': existing.kind } },
        `conflict/${existing.kind}`,
      );
    const srcLower = lower(src.pathDisplay);
    if (lower(to) === srcLower || lower(to).startsWith(`${srcLower}/`)) {
      throw new StoreError({ '.tag': 'cant_nest_shared_folder' }, 'cant_copy_shared_folder');
    }
    const items = [srcLower, ...this.descendants(srcLower)].map((pl) => this.nodes.get(pl)!);
    const bytes = items.reduce((s, n) => s + (n.kind === 'file' ? n.size : 0), 0);
    if (insufficientSpace || this.usedBytes + bytes > this.quotaBytes) {
      throw wrapTo({ '.tag': 'insufficient_space' }, 'insufficient_space');
    }
    const parentDisplay = this.ensureParents(to, wrapTo);
    const newRoot = `${parentDisplay}/${nameOf(to)}`;
    let first: Node | undefined;
    for (const n of items) {
      const display = newRoot + n.pathDisplay.slice(src.pathDisplay.length);
      let copy: Node;
      if (n.kind === 'folder') {
        copy = { kind: 'folder', id: newId(), name: nameOf(display), pathDisplay: display };
      } else {
        const blob = join(this.dir, 'blobs', randomBytes(10).toString('hex'));
        await copyFile(n.blob, blob);
        this.usedBytes += n.size;
        copy = {
          ...n,
          id: newId(),
          name: nameOf(display),
          pathDisplay: display,
          rev: randomBytes(9).toString('hex'),
          serverModified: dropboxTime(now),
          blob,
        };
      }
      this.insert(copy);
      first ??= copy;
    }
    return first!;
  }

  move(from: string, to: string): Node {
    const src = this.resolve(from);
    if (!src) {
      throw new StoreError(
        { '.tag': 'from_lookup', from_lookup: { '.tag': 'not_found' } },
        'from_lookup/not_found',
      );
    }
    const wrapTo = (reason: Record<string, unknown>, summary: string) =>
      new StoreError({ '.tag': 'to', to: reason }, `to/${summary}`);
    const srcLower = lower(src.pathDisplay);
    const existing = this.nodes.get(lower(to));
    // A case-only rename is allowed: the target "exists" only because it is the source.
    if (existing && lower(to) !== srcLower) {
      throw wrapTo(
        { '.tag': 'conflict', conflict: { '.tag': existing.kind } },
        `conflict/${existing.kind}`,
      );
    }
    if (lower(to).startsWith(`${srcLower}/`)) {
      throw new StoreError(
        { '.tag': 'cant_move_folder_into_itself' },
        'cant_move_folder_into_itself',
      );
    }
    const items = [srcLower, ...this.descendants(srcLower)].map((pl) => this.nodes.get(pl)!);
    for (const n of [...items].reverse()) this.unlink(lower(n.pathDisplay), n === src);
    const parentDisplay = this.ensureParents(to, wrapTo);
    const newRoot = `${parentDisplay}/${nameOf(to)}`;
    let first: Node | undefined;
    for (const n of items) {
      const display = newRoot + n.pathDisplay.slice(src.pathDisplay.length);
      const moved: Node = { ...n, name: nameOf(display), pathDisplay: display };
      this.insert(moved);
      first ??= moved;
    }
    return first!;
  }

  private freeName(path: string): string {
    const dot = path.lastIndexOf('.');
    const slash = path.lastIndexOf('/');
    const [stem, ext] = dot > slash + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
    for (let i = 1; ; i++) {
      const candidate = `${stem} (${i})${ext}`;
      if (!this.nodes.has(lower(candidate))) return candidate;
    }
  }

  // ---- upload sessions -------------------------------------------------------------------------

  async startSession(concurrent: boolean): Promise<UploadSession> {
    const id = `pid_upload_session:${randomBytes(12).toString('base64url')}`;
    const file = join(this.dir, 'sessions', randomBytes(8).toString('hex'));
    await writeFile(file, Buffer.alloc(0));
    const s: UploadSession = {
      id,
      file,
      offset: 0,
      closed: false,
      concurrent,
      createdAt: Date.now(),
      pieces: new Map(),
    };
    this.sessions.set(id, s);
    return s;
  }

  /** Cuts a session file back to `offset` bytes (a failed or rejected append keeps nothing). */
  async truncateSession(s: UploadSession, offset: number): Promise<void> {
    await truncate(s.file, offset);
  }

  async dropSession(s: UploadSession): Promise<void> {
    this.sessions.delete(s.id);
    await rm(s.file, { force: true });
  }
}

export function newId(): string {
  return `id:${randomBytes(12).toString('base64url')}`;
}

export async function hashFile(file: string): Promise<string> {
  const h = new ContentHash();
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }))
    h.update(chunk as Buffer);
  return h.digest();
}

async function flipFirstByte(file: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 0);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, 0);
  } finally {
    await fh.close();
  }
}
