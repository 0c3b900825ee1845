import { constants as fsConstants, createReadStream, type Stats } from 'node:fs';
import { lstat, open, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { Capabilities } from '../capabilities.js';
import {
  type BatchCopier,
  type BatchCopyItem,
  type BatchCopyResult,
  type CallOptions,
  type Connector,
  type Entry,
  type PartialCleaner,
  type ReadOptions,
  type RootCheck,
  type RootPresence,
  type WriteBarrier,
  type WriteMeta,
} from '../connector.js';
import {
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
} from '../connector.errors.js';
import { baseName, normalizePath, parentPath } from '../path.js';
import { mapFsError } from './local.errors.js';
import type { LocalOptions } from './local.options.js';
import { isPartialName, partialPathFor } from '../partial-name.js';
import { removePartialsUnder } from './local.partials.js';
import { LOCAL_BATCH_MAX_BYTES, toCopyJobItem, untilAborted } from './local.batch-items.js';
import { isVolumeMarkerName, LocalVolume, type VolumeMemory } from './local.volume.js';
import { makeDurable, nodeSyncCalls, type SyncCalls } from './local.durability.js';
import { failureError, sharedLocalFileWorker, type LocalFileJobs } from './local.file-worker.js';
import {
  ENTRY_ERROR,
  ENTRY_FOLDER,
  ENTRY_SKIP,
  type CopyItemResult,
  type CopyJobItem,
  type WorkerFailure,
} from './local.file-worker.protocol.js';

/** Entries read from the directory handle per batch; also what `listPageSize` reports. */
const LIST_BATCH = 256;
/** Read buffer: large enough for disk throughput, small enough that K transfers stay cheap. */
const READ_HIGH_WATER_MARK = 256 * 1024;
/** Bound of the known-folders cache (cleared, not evicted, past it). */
const KNOWN_FOLDERS_MAX = 10_000;
/**
 * How long a folder's checked real path is trusted (see `confinedFolder`): a second, so a run of
 * small files resolves each folder about once a second instead of every file's path (a `realpath`
 * is a trip through libuv's thread pool and one readlink per path component).
 */
const CONFINED_TTL_MS = 1000;
/** Opening a regular file found by lstat: a link swapped in since then fails (ELOOP), never followed. */
const READ_NO_FOLLOW = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;

export const LOCAL_CAPABILITIES: Capabilities = {
  hashes: [],
  rangedReads: true,
  changeFeed: false,
  serverSideCopy: false,
  writable: true,
  preservesModifiedTime: true,
  listPageSize: LIST_BATCH,
};

/**
 * A folder on this machine or a mounted drive. Writes go to a hidden temporary file in the same
 * folder, are flushed, then renamed over the final name, so a crash never leaves a half file
 * under the real name. With the `fsync` option (the default) a file is durable when `write`
 * returns, or, for a write with `deferSync`, once `flushWrites` (one syncfs for all the files
 * written since the last one) has returned.
 */
export class LocalConnector
  implements Connector, RootPresence, PartialCleaner, WriteBarrier, BatchCopier
{
  readonly kind = 'local';
  readonly capabilities = LOCAL_CAPABILITIES;
  readonly batchCopyMaxBytes = LOCAL_BATCH_MAX_BYTES;
  private readonly root: string;
  private readonly volume: LocalVolume;
  /** The root with symbolic links resolved: no path of the account may lead outside it. */
  private realRoot?: Promise<string>;
  /** Folders this connector made or found (mkdir -p once per folder, not once per file). */
  private readonly knownFolders = new Set<string>();
  /** Folder -> its real path, checked to be inside the root, and when (see `confinedFolder`). */
  private readonly confinedFolders = new Map<string, { real: string; at: number }>();
  /** Files written with `deferSync` and not yet made durable by `flushWrites` (real paths). */
  private unsynced = new Set<string>();
  /** Batch copies the file worker has not answered yet (aborted ones too): flushWrites waits. */
  private readonly batches = new Set<Promise<unknown>>();

  constructor(
    private readonly options: LocalOptions,
    volume?: VolumeMemory,
    private readonly syncCalls: SyncCalls = nodeSyncCalls,
    /** Batch copies and listings (local.file-worker.ts): two threads for the whole process. */
    private readonly files: LocalFileJobs = sharedLocalFileWorker(),
  ) {
    if (!isAbsolute(options.root)) {
      throw new InvalidPathError(`local root '${options.root}' must be an absolute path`);
    }
    if (options.root.includes('\0')) {
      throw new InvalidPathError('local root must not contain a NUL character');
    }
    this.root = resolve(options.root);
    this.volume = new LocalVolume(this.root, volume);
  }

  /**
   * The durability barrier: every file a `deferSync` write stored before this call is on the disk
   * (bytes, name and folder) when it resolves; one syncfs of their file systems (see
   * local.durability.ts). A failed flush keeps the files for the next call.
   */
  async flushWrites(): Promise<void> {
    // Files a batch copy stored are named to `unsynced` when the worker answers.
    if (this.batches.size > 0) await Promise.allSettled([...this.batches]);
    if (this.unsynced.size === 0) return;
    const files = this.unsynced;
    this.unsynced = new Set();
    try {
      await makeDurable([...files], this.syncCalls);
    } catch (e) {
      for (const f of files) this.unsynced.add(f);
      throw mapFsError(e, '');
    }
  }

  /** Temporary files a killed run left under `folder` (see local.partials.ts). */
  async removePartials(folder: string, opts: CallOptions = {}): Promise<number> {
    return removePartialsUnder(await this.confinedFolder(normalizePath(folder)), opts.signal);
  }

  /** Root there, and the same drive as on first use (its volume marker): see local.volume.ts. */
  checkRoot(): Promise<RootCheck> {
    return this.volume.check();
  }

  /** The folder where this account's files are, as configured (a batch copy reads it). */
  get rootFolder(): string {
    return this.root;
  }

  /**
   * The entries of `dir`, a page of up to 4,096 at a time from the file worker (one job: readdir
   * and an lstat per entry, synchronous on its thread). Before, every entry's stat was a trip of
   * its own through libuv's thread pool: 299 ms for 10,000 files against 64-89 ms (issue #21).
   * Links are followed, and listed only when they stay inside the root; sockets, devices, fifos,
   * dangling links, temporary files and the volume marker are not listed.
   */
  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    let handle = 0;
    try {
      do {
        opts.signal?.throwIfAborted();
        const page = await this.files.list(this.root, rel, handle);
        if (isFailure(page)) throw failureError(page, rel);
        handle = page.handle;
        let failures = 0;
        for (let i = 0; i < page.names.length; i++) {
          const kind = page.kinds[i];
          const name = page.names[i]!;
          if (kind === ENTRY_SKIP) continue;
          const failure = kind === ENTRY_ERROR ? page.errors[failures++] : undefined;
          if (isPartialName(name) || isVolumeMarkerName(name)) continue;
          const childRel = rel === '' ? name : `${rel}/${name}`;
          if (failure) throw failureError(failure, childRel);
          opts.signal?.throwIfAborted();
          const isDir = kind === ENTRY_FOLDER;
          yield {
            path: childRel,
            name,
            kind: isDir ? 'folder' : 'file',
            size: isDir ? undefined : page.sizes[i],
            // Rounded as Node's Stats#mtime rounds mtimeMs (stat() and the ledger agree).
            modifiedAt: new Date(Math.round(page.mtimes[i]!)),
            hashes: {},
          };
        }
      } while (handle !== 0);
    } finally {
      // Left before its end (an error, an abort, a caller that stopped reading).
      if (handle !== 0) await this.files.closeListing(handle).catch(() => undefined);
    }
  }

  /** Another local folder: its files are read by the file worker directly. */
  canCopyBatchFrom(source: Connector): boolean {
    return source instanceof LocalConnector;
  }

  /**
   * Copies `items` from `source` in ONE job of the file worker (see local.file-worker.body.ts):
   * per item, the source opened as read() opens it (no link followed out of its root), checked
   * to be a regular file of the listed size, read whole into the worker's buffer, hashed
   * (SHA-256), written to a temporary name as write() writes it (folders made as write() makes
   * them), given its time, renamed. No fsync: durable at the next `flushWrites`, as a
   * `deferSync` write. Per-item errors are those read() and write() throw for the same cause.
   * An abort rejects at once; the worker stops after the item it is on and removes that item's
   * temporary file.
   */
  async copyBatch(
    source: Connector,
    items: readonly BatchCopyItem[],
    opts: CallOptions = {},
  ): Promise<BatchCopyResult[]> {
    if (!(source instanceof LocalConnector)) {
      throw new InvalidPathError(`a local folder copies batches only from another local folder`);
    }
    opts.signal?.throwIfAborted();
    const out: (BatchCopyResult | undefined)[] = new Array(items.length);
    const jobItems: CopyJobItem[] = [];
    const at: number[] = [];
    items.forEach((item, i) => {
      const checked = toCopyJobItem(item);
      if ('ok' in checked) out[i] = checked;
      else {
        jobItems.push(checked);
        at.push(i);
      }
    });
    if (jobItems.length > 0) {
      const cancel = new Int32Array(new SharedArrayBuffer(4));
      const answered = this.files
        .copy(
          {
            srcRoot: source.rootFolder,
            dstRoot: this.root,
            items: jobItems,
            knownFolders: [...new Set(jobItems.map((j) => parentPath(j.dst)))].filter((f) =>
              this.knownFolders.has(f),
            ),
          },
          cancel,
        )
        .then((r) => {
          this.noteCopied(jobItems, r.results, r.folders);
          return r.results;
        });
      this.batches.add(answered);
      const forget = () => this.batches.delete(answered);
      answered.then(forget, forget);
      const results = await untilAborted(answered, opts.signal, () => Atomics.store(cancel, 0, 1));
      let missingRoot: Promise<Error> | undefined;
      for (let k = 0; k < results.length; k++) {
        const r = results[k]!;
        const item = jobItems[k]!;
        if (r.ok) {
          out[at[k]!] = { ok: true, size: r.size, sha256: r.sha256 };
          continue;
        }
        let error: Error;
        if (r.side === 'target' && r.kind === 'root-missing') {
          // The volume's own words for it (and a single stat for the whole batch).
          missingRoot ??= this.volume.assertPresent().then(
            () => failureError(r, item.dst),
            (e: unknown) => e as Error,
          );
          error = await missingRoot;
        } else {
          error = failureError(r, r.side === 'source' ? item.src : item.dst);
        }
        out[at[k]!] = { ok: false, side: r.side, error };
      }
    }
    return out as BatchCopyResult[];
  }

  /** What the worker stored: durable at the next flushWrites; the folders it found or made. */
  private noteCopied(items: CopyJobItem[], results: CopyItemResult[], folders: string[]): void {
    for (const f of folders) {
      if (this.knownFolders.size >= KNOWN_FOLDERS_MAX) this.knownFolders.clear();
      this.knownFolders.add(f);
    }
    if (!this.options.fsync) return;
    results.forEach((r, k) => {
      if (r.ok) this.unsynced.add(this.abs(items[k]!.dst));
    });
  }

  async stat(path: string): Promise<Entry> {
    const rel = normalizePath(path);
    return toEntry(rel, (await this.statConfined(rel)).st);
  }

  /**
   * The item at `rel`, through its checked folder: one lstat for a plain file or folder (no
   * realpath of its own); a symbolic link is followed only when it stays inside the root.
   */
  private async statConfined(rel: string): Promise<{ abs: string; st: Stats; link: boolean }> {
    try {
      if (rel === '') return { abs: this.root, st: await stat(this.root), link: false };
      const abs = join(await this.confinedFolder(parentPath(rel)), baseName(rel));
      const st = await lstat(abs);
      if (!st.isSymbolicLink()) return { abs, st, link: false };
      if (!(await this.isInside(abs))) throw outsideError(rel);
      return { abs, st: await stat(abs), link: true };
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    const { abs, st, link } = await this.statConfined(rel);
    const entry = toEntry(rel, st);
    if (entry.kind === 'folder') throw new IsADirectoryError(`'${entry.path}' is a folder`);
    const size = entry.size ?? 0;
    const offset = opts.range?.offset ?? 0;
    if (offset > size) {
      throw new InvalidRangeError(
        `range starts at ${offset}, past the end of '${entry.path}' (${size} bytes)`,
      );
    }
    const end =
      opts.range?.length === undefined ? size : Math.min(size, offset + opts.range.length);
    if (end <= offset) return Readable.from([]);
    // What fits one read buffer is read here, in one read: the same open, read and close a
    // ReadStream makes, without its machinery per file (the bytes would be one chunk anyway).
    if (end - offset <= READ_HIGH_WATER_MARK) {
      try {
        return await readSmall(abs, link ? 'r' : READ_NO_FOLLOW, offset, end - offset);
      } catch (e) {
        throw mapFsError(e, rel);
      }
    }
    return createReadStream(abs, {
      // Numeric flags reach open(2) as they are (the typings only name the string forms).
      flags: (link ? 'r' : READ_NO_FOLLOW) as unknown as string,
      start: offset,
      end: end - 1, // inclusive
      highWaterMark: READ_HIGH_WATER_MARK,
      signal: opts.signal,
    });
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    // The folder's real path, checked to be inside the root (remembered for a second); the file
    // goes to a temporary name there and is renamed over `target`. A link at `target` itself is
    // replaced by the rename, never written through.
    const dir = await this.confinedFolder(parentPath(rel));
    const target = join(dir, baseName(rel));
    const tmp = join(dir, baseName(partialPathFor(rel)));
    // Few system calls per file (each one a trip through libuv's thread pool): open, the writes,
    // futimes, fsync and close on one descriptor, rename. No mkdir -p for a folder made in this
    // connector's life, no realpath per file, no check of the target first (a folder in the way
    // fails the rename, and only then is it looked at), no stat afterwards (the bytes are
    // counted as they are written). No WriteStream nor stream pipeline: for a file of one or two
    // chunks their set-up and teardown cost more than the writes.
    const fh = await this.openNew(tmp, rel, dir, meta);
    // Durable now (an fsync), or at the caller's next `flushWrites` (see WriteMeta.deferSync).
    const deferred = this.options.fsync && meta.deferSync === true;
    let written = 0;
    const onAbort = () => body.destroy(meta.signal?.reason as Error);
    meta.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      meta.signal?.throwIfAborted();
      // No digest here: a local drive reports no hash of its own (capabilities.hashes is empty),
      // and one computed from this same stream would only repeat the caller's (the engine hashes
      // every transfer): on a copy to a local folder that was a second SHA-256 of every byte.
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
        for (let off = 0; off < buf.length;) {
          off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        }
        written += buf.length;
      }
      meta.signal?.throwIfAborted();
      if (meta.modifiedAt) await fh.utimes(meta.modifiedAt, meta.modifiedAt);
      if (this.options.fsync && !deferred) await fh.sync();
      await fh.close();
      await rename(tmp, target);
      if (deferred) this.unsynced.add(target);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      // An error of the incoming stream is the caller's (a broken source), not the drive's.
      if (body.errored) throw body.errored;
      if ((e as NodeJS.ErrnoException).code === 'EISDIR' || (await this.isFolder(target)))
        throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`, { cause: e });
      throw mapFsError(e, rel);
    } finally {
      meta.signal?.removeEventListener('abort', onAbort);
    }
    return {
      path: rel,
      name: baseName(rel),
      kind: 'file',
      size: written,
      modifiedAt: meta.modifiedAt ?? new Date(),
      hashes: {},
    };
  }

  /** Opens the temporary file, making its folder first when it is not known to exist. */
  private async openNew(
    tmp: string,
    rel: string,
    dir: string,
    meta: WriteMeta,
  ): Promise<FileHandle> {
    const parent = parentPath(rel);
    for (let attempt = 1; ; attempt++) {
      if (!this.knownFolders.has(parent)) await this.ensureFolder(parent, meta, dir);
      try {
        return await open(tmp, 'wx', 0o644);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A known folder removed behind our back: forget it and make it again, once.
        if ((code === 'ENOENT' || code === 'ENOTDIR') && attempt === 1) {
          this.forgetFolders();
          continue;
        }
        throw mapFsError(e, rel);
      }
    }
  }

  private async isFolder(abs: string): Promise<boolean> {
    return stat(abs).then(
      (st) => st.isDirectory(),
      () => false,
    );
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    await this.ensureFolder(rel, opts, await this.confinedFolder(rel));
    return this.stat(rel);
  }

  async remove(path: string): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    const { abs } = await this.statConfined(rel); // NotFound when missing
    this.forgetFolders();
    try {
      await rm(abs, { recursive: true, force: false });
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  /**
   * The real path of folder `rel` (for a folder not created yet: its nearest existing folder's,
   * joined with the rest), refused when symbolic links make it lead outside the root: a link to
   * /etc inside a backed-up folder must not let anyone read or write /etc. Remembered for
   * CONFINED_TTL_MS: the files of a folder use the checked real path, and a folder swapped for a
   * link since is caught at the next check. (A check per file left the same kind of window,
   * between the check and the open, only shorter; no check without openat/O_NOFOLLOW on every
   * component closes it.)
   */
  private async confinedFolder(rel: string): Promise<string> {
    const now = Date.now();
    const hit = this.confinedFolders.get(rel);
    if (hit && now - hit.at < CONFINED_TTL_MS) return hit.real;
    let real: string;
    try {
      real = rel === '' ? await this.realRootPath() : await realPathOrAncestor(this.abs(rel));
      if (!(await this.isUnderRoot(real))) throw outsideError(rel);
    } catch (e) {
      throw mapFsError(e, rel);
    }
    if (this.confinedFolders.size >= KNOWN_FOLDERS_MAX) this.confinedFolders.clear();
    this.confinedFolders.set(rel, { real, at: now });
    return real;
  }

  private async isInside(abs: string): Promise<boolean> {
    return this.isUnderRoot(await realPathOrAncestor(abs));
  }

  private realRootPath(): Promise<string> {
    this.realRoot ??= realpath(this.root).catch(() => this.root);
    return this.realRoot;
  }

  private async isUnderRoot(real: string): Promise<boolean> {
    const root = await this.realRootPath();
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  }

  private forgetFolders(): void {
    this.knownFolders.clear();
    this.confinedFolders.clear();
  }

  private abs(rel: string): string {
    // `rel` is normalised: no '..' or absolute segments, so the join stays under the root.
    return rel === '' ? this.root : join(this.root, ...rel.split('/'));
  }

  /** mkdir -p of folder `rel`, at `real`: its real path as `confinedFolder` checked it. */
  private async ensureFolder(rel: string, opts: CallOptions, real: string): Promise<void> {
    opts.signal?.throwIfAborted();
    if (this.knownFolders.has(rel)) return;
    try {
      await this.volume.mkdirBelowRoot(real); // never the root itself
      if (this.knownFolders.size >= KNOWN_FOLDERS_MAX) this.knownFolders.clear();
      this.knownFolders.add(rel);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new NotADirectoryError(`cannot create folder '${rel}': a file is in the way`, {
          cause: e,
        });
      }
      throw mapFsError(e, rel);
    }
  }
}

/** `realpath`, or for a missing path its nearest existing ancestor's joined with the rest. */
async function realPathOrAncestor(abs: string): Promise<string> {
  const rest: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      return join(await realpath(p), ...rest.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw e;
      rest.push(basename(p));
    }
  }
}

/** Up to `length` bytes at `offset` as a stream of one chunk (fewer if the file shrank since). */
async function readSmall(
  abs: string,
  flags: string | number,
  offset: number,
  length: number,
): Promise<Readable> {
  const fh = await open(abs, flags);
  let n = 0;
  const buf = Buffer.allocUnsafe(length);
  try {
    while (n < length) {
      const { bytesRead } = await fh.read(buf, n, length - n, offset + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const out = new Readable({ read: () => undefined });
  out.push(n === length ? buf : buf.subarray(0, n));
  out.push(null);
  return out;
}

function isFailure(page: object): page is WorkerFailure {
  return 'kind' in page;
}

function outsideError(rel: string): InvalidPathError {
  return new InvalidPathError(`'${rel}' leads outside the account's folder (a symbolic link)`);
}

function toEntry(rel: string, st: Stats): Entry {
  const isDir = st.isDirectory();
  return {
    path: rel,
    name: rel === '' ? '' : baseName(rel),
    kind: isDir ? 'folder' : 'file',
    size: isDir ? undefined : st.size,
    modifiedAt: st.mtime,
    hashes: {},
  };
}
