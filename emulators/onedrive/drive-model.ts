import { randomBytes } from 'node:crypto';
import type { Blob } from './blob-store.js';

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export interface Item {
  id: string;
  name: string;
  /** undefined for the root only. */
  parentId: string | undefined;
  kind: 'file' | 'folder';
  blob?: Blob;
  createdAt: Date;
  modifiedAt: Date;
  /** Client-settable times (fileSystemInfo). */
  fsCreatedAt: Date;
  fsModifiedAt: Date;
  /** Bumped on any change (eTag) and on content changes (cTag). */
  version: number;
  contentVersion: number;
  /** Drive change sequence number of the latest change: what delta pages on. */
  seq: number;
  /** Lower-cased child name -> child id (folders only). */
  children?: Map<string, string>;
}

export interface Tombstone {
  id: string;
  name: string;
  parentId: string | undefined;
  kind: 'file' | 'folder';
  seq: number;
}

/** Characters OneDrive / SharePoint refuse in names (Windows-invalid set). */
const INVALID_NAME_CHARS = /["*:<>?/\\|]/;

/** Why a name would be refused by the service, or undefined when it is fine. */
export function invalidNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'empty or dot name';
  if (INVALID_NAME_CHARS.test(name))
    return 'the name contains a character that is not allowed (" * : < > ? / \\ |)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return 'the name contains a control character';
  if (name.startsWith(' ') || name.endsWith(' ')) return 'the name starts or ends with a space';
  if (name.endsWith('.')) return 'the name ends with a dot';
  if (Buffer.byteLength(name, 'utf8') > 400) return 'the name is too long';
  return undefined;
}

export function foldName(name: string): string {
  return name.toLowerCase();
}

/** One drive (a user's OneDrive or a SharePoint document library): a tree of items by id. */
export class Drive {
  readonly items = new Map<string, Item>();
  readonly tombstones = new Map<string, Tombstone>();
  readonly root: Item;
  seq = 0;
  /** Bumped by the control API: every older delta token answers 410 resyncRequired. */
  deltaEpoch = 1;
  usedBytes = 0;

  constructor(
    readonly id: string,
    readonly driveType: 'personal' | 'business' | 'documentLibrary',
    public quotaBytes: number,
    private readonly now: () => Date,
  ) {
    const t = now();
    this.root = {
      id: `${id.slice(0, 8).toUpperCase()}!ROOT`,
      name: 'root',
      parentId: undefined,
      kind: 'folder',
      createdAt: t,
      modifiedAt: t,
      fsCreatedAt: t,
      fsModifiedAt: t,
      version: 1,
      contentVersion: 1,
      seq: ++this.seq,
      children: new Map(),
    };
    this.items.set(this.root.id, this.root);
  }

  newId(): string {
    return `${this.id.slice(0, 8).toUpperCase()}!${randomBytes(8).toString('hex').toUpperCase()}`;
  }

  get(id: string): Item | undefined {
    return this.items.get(id);
  }

  child(parent: Item, name: string): Item | undefined {
    const id = parent.children?.get(foldName(name));
    return id === undefined ? undefined : this.items.get(id);
  }

  childrenOf(parent: Item): Item[] {
    return [...(parent.children?.values() ?? [])].map((id) => this.items.get(id)!).filter(Boolean);
  }

  /** Resolves a path of decoded segments below `base`; undefined when a segment is missing. */
  resolve(base: Item, segments: readonly string[]): Item | undefined {
    let cur: Item | undefined = base;
    for (const s of segments) {
      if (!cur || cur.kind !== 'folder') return undefined;
      cur = this.child(cur, s);
    }
    return cur;
  }

  pathOf(item: Item): string {
    const names: string[] = [];
    for (
      let cur: Item | undefined = item;
      cur && cur.parentId !== undefined;
      cur = this.items.get(cur.parentId)
    ) {
      names.unshift(cur.name);
    }
    return names.join('/');
  }

  /** A free name for conflictBehavior=rename: "name 1.ext", "name 2.ext", ... */
  freeName(parent: Item, name: string): string {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let n = 1; ; n++) {
      const candidate = `${stem} ${n}${ext}`;
      if (!this.child(parent, candidate)) return candidate;
    }
  }

  touch(item: Item, content: boolean): void {
    item.version++;
    if (content) item.contentVersion++;
    item.modifiedAt = this.now();
    item.seq = ++this.seq;
  }

  createFolder(parent: Item, name: string): Item {
    return this.insert(parent, name, 'folder');
  }

  /** Creates a file or replaces the content of the existing one with that name. */
  putFile(
    parent: Item,
    name: string,
    blob: Blob,
    fsModifiedAt?: Date,
  ): { item: Item; created: boolean } {
    const existing = this.child(parent, name);
    if (existing) {
      if (existing.kind !== 'file') throw new Error('a folder has that name');
      this.usedBytes += blob.size - (existing.blob?.size ?? 0);
      existing.blob = blob;
      if (fsModifiedAt) existing.fsModifiedAt = fsModifiedAt;
      else existing.fsModifiedAt = this.now();
      this.touch(existing, true);
      return { item: existing, created: false };
    }
    const item = this.insert(parent, name, 'file', blob);
    if (fsModifiedAt) item.fsModifiedAt = fsModifiedAt;
    this.usedBytes += blob.size;
    return { item, created: true };
  }

  /** Deletes an item and everything below it, leaving tombstones for delta. */
  remove(item: Item): void {
    for (const c of this.childrenOf(item)) this.remove(c);
    const parent = item.parentId === undefined ? undefined : this.items.get(item.parentId);
    parent?.children?.delete(foldName(item.name));
    this.items.delete(item.id);
    if (item.blob) this.usedBytes -= item.blob.size;
    this.tombstones.set(item.id, {
      id: item.id,
      name: item.name,
      parentId: item.parentId,
      kind: item.kind,
      seq: ++this.seq,
    });
    if (parent) this.touch(parent, false);
  }

  rename(item: Item, newParent: Item, newName: string): void {
    const oldParent = item.parentId === undefined ? undefined : this.items.get(item.parentId);
    oldParent?.children?.delete(foldName(item.name));
    item.name = newName;
    item.parentId = newParent.id;
    newParent.children!.set(foldName(newName), item.id);
    this.touch(item, false);
  }

  private insert(parent: Item, name: string, kind: 'file' | 'folder', blob?: Blob): Item {
    const t = this.now();
    const item: Item = {
      id: this.newId(),
      name,
      parentId: parent.id,
      kind,
      blob,
      createdAt: t,
      modifiedAt: t,
      fsCreatedAt: t,
      fsModifiedAt: t,
      version: 1,
      contentVersion: 1,
      seq: ++this.seq,
      children: kind === 'folder' ? new Map() : undefined,
    };
    this.items.set(item.id, item);
    parent.children!.set(foldName(name), item.id);
    this.touch(parent, false);
    return item;
  }
}
