import { rmSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LibraryZone, PhotoAsset } from './icloud-photos.mapper.js';

interface StoredFolder {
  zone: LibraryZone;
  /** The folder's JSON lines while they fit the memory budget ... */
  mem?: string;
  /** ... else the file (in the store's directory) that holds them. */
  file?: string;
  /** The last write queued for this folder; reads wait for it. */
  pending: Promise<void>;
}

/** Stored text kept in memory before folders go to disk (about 7,000 assets). */
const MEMORY_BUDGET = 4 * 1024 * 1024;

/** Spill directories still on disk, removed when the process exits if `close` never ran. */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * The assets of every listed folder (month or album) as JSON lines: in memory up to a budget
 * (`MEMORY_BUDGET` characters, so a small library never touches the disk), then one file per
 * folder in a private temporary directory, removed by `close` (or at process exit). A full
 * listing of a large library holds every asset between the top-level listing (which pages
 * through the whole library) and the month listings that follow; on disk that costs about
 * 0.5 KB per asset there instead of memory, whatever the library size.
 */
export class FolderStore {
  private dir?: Promise<string>;
  private readonly folders = new Map<string, StoredFolder>();
  private nextFile = 0;
  private memBytes = 0;
  private closed = false;

  constructor(
    private readonly parent: string = tmpdir(),
    private readonly memoryBudget: number = MEMORY_BUDGET,
  ) {}

  has(folder: string): boolean {
    return this.folders.has(folder);
  }

  /** Folders stored, optionally only those under a path prefix. */
  list(prefix = ''): string[] {
    return [...this.folders.keys()].filter((f) => f.startsWith(prefix));
  }

  /** Whether any folder went to disk. */
  get spilled(): boolean {
    return this.dir !== undefined;
  }

  /** Adds assets to a folder (creating it); writes to one folder run in call order. */
  append(folder: string, zone: LibraryZone, assets: PhotoAsset[]): Promise<void> {
    let entry = this.folders.get(folder);
    if (!entry) {
      entry = { zone, mem: '', pending: Promise.resolve() };
      this.folders.set(folder, entry);
    }
    this.add(entry, serialize(assets), false);
    return entry.pending;
  }

  /** Sets a folder's assets, replacing what was stored for it. */
  async replace(folder: string, zone: LibraryZone, assets: PhotoAsset[]): Promise<void> {
    this.drop(folder);
    const entry: StoredFolder = { zone, mem: '', pending: Promise.resolve() };
    this.folders.set(folder, entry);
    this.add(entry, serialize(assets), true);
    await entry.pending;
  }

  private add(entry: StoredFolder, text: string, fresh: boolean): void {
    if (text === '' && !fresh) return;
    if (entry.mem !== undefined && this.memBytes + text.length <= this.memoryBudget) {
      entry.mem += text;
      this.memBytes += text.length;
      return;
    }
    if (entry.mem !== undefined) {
      // Over budget: this folder moves to disk with what it held.
      const data = entry.mem + text;
      this.memBytes -= entry.mem.length;
      entry.mem = undefined;
      const file = `f${this.nextFile++}.jsonl`;
      entry.file = file;
      entry.pending = entry.pending.then(async () =>
        writeFile(join(await this.directory(), file), data),
      );
      return;
    }
    const file = entry.file!;
    entry.pending = entry.pending.then(async () =>
      appendFile(join(await this.directory(), file), text),
    );
  }

  /** The stored assets of a folder, in the order they were written; undefined when not stored. */
  async load(folder: string): Promise<PhotoAsset[] | undefined> {
    const text = await this.text(folder);
    const entry = this.folders.get(folder);
    if (text === undefined || !entry) return undefined;
    const out: PhotoAsset[] = [];
    for (const line of text.split('\n')) {
      if (line !== '')
        out.push({ ...(JSON.parse(line) as Omit<PhotoAsset, 'zone'>), zone: entry.zone });
    }
    return out;
  }

  /** The raw stored text of a folder (to look for an id without parsing every asset). */
  async text(folder: string): Promise<string | undefined> {
    const entry = this.folders.get(folder);
    if (!entry) return undefined;
    await entry.pending;
    if (this.folders.get(folder) !== entry) return this.text(folder);
    if (entry.mem !== undefined) return entry.mem;
    return readFile(join(await this.directory(), entry.file!), 'utf8');
  }

  /** Forgets a folder (and deletes its file). */
  drop(folder: string): void {
    const entry = this.folders.get(folder);
    if (!entry) return;
    this.folders.delete(folder);
    if (entry.mem !== undefined) {
      this.memBytes -= entry.mem.length;
      return;
    }
    const file = entry.file!;
    void entry.pending
      .catch(() => undefined)
      .then(async () => {
        if (this.dir) await unlink(join(await this.dir, file));
      })
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.folders.clear();
    this.memBytes = 0;
    const dir = await this.dir?.catch(() => undefined);
    if (!dir) return;
    await rm(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  }

  private directory(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the iCloud Photos folder store is closed'));
    this.dir ??= mkdtemp(join(this.parent, 'cbe-icloud-')).then((d) => {
      trackDir(d);
      return d;
    });
    return this.dir;
  }
}

function serialize(assets: PhotoAsset[]): string {
  let out = '';
  for (const { zone: _zone, ...rest } of assets) out += JSON.stringify(rest) + '\n';
  return out;
}
