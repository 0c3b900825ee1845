import { constants as fsConstants, createReadStream, type Dirent, type Stats } from 'node:fs';
import {
  lstat,
  open,
  opendir,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { Capabilities } from '../capabilities.js';
import type {
  CallOptions,
  Connector,
  Entry,
  PartialCleaner,
  ReadOptions,
  RootCheck,
  RootPresence,
  WriteBarrier,
  WriteMeta,
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
import { isVolumeMarkerName, LocalVolume, type VolumeMemory } from './local.volume.js';
import { makeDurable, nodeSyncCalls, type SyncCalls } from './local.durability.js';

/** Entries read from the directory handle per batch; also what `listPageSize` reports. */
const LIST_BATCH = 256;
/** Entries of a listing whose stats are taken at once (libuv's pool runs 4 at a time). */
const STAT_PARALLEL = 32;
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
export class LocalConnector implements Connector, RootPresence, PartialCleaner, WriteBarrier {
  readonly kind = 'local';
  readonly capabilities = LOCAL_CAPABILITIES;
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

  constructor(
    private readonly options: LocalOptions,
    volume?: VolumeMemory,
    private readonly syncCalls: SyncCalls = nodeSyncCalls,
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

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const abs = await this.confinedFolder(rel);
    let handle;
    try {
      handle = await opendir(abs, { bufferSize: LIST_BATCH });
    } catch (e) {
      throw mapFsError(e, rel);
    }
    try {
      // The stats of a batch of entries go to libuv's thread pool together, not one after the
      // other: a folder of 1,000 files was 1,000 round trips in a row (issue #21, the no-change
      // run, whose cost is this listing).
      let batch: Dirent[] = [];
      for await (const dirent of handle) {
        opts.signal?.throwIfAborted();
        if (isPartialName(dirent.name) || isVolumeMarkerName(dirent.name)) continue;
        batch.push(dirent);
        if (batch.length >= STAT_PARALLEL) {
          yield* await this.entriesOf(rel, abs, batch);
          batch = [];
        }
      }
      yield* await this.entriesOf(rel, abs, batch);
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  /** The listed entries of `dirents` (children of `abs`), their stats taken in parallel. */
  private async entriesOf(rel: string, abs: string, dirents: Dirent[]): Promise<Entry[]> {
    const entries = await Promise.all(
      dirents.map(async (dirent): Promise<Entry | undefined> => {
        const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
        let st: Stats;
        try {
          st = await stat(join(abs, dirent.name));
        } catch (e) {
          // Vanished between readdir and stat, or a dangling symlink: not part of the listing.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw mapFsError(e, childRel);
        }
        if (!st.isFile() && !st.isDirectory()) return undefined; // sockets, devices, fifos
        // A link that leaves the root is neither listed nor followed (see `confined`).
        if (dirent.isSymbolicLink() && !(await this.isInside(join(abs, dirent.name))))
          return undefined;
        return toEntry(childRel, st);
      }),
    );
    return entries.filter((e): e is Entry => e !== undefined);
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
