import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, opendir, realpath, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Capabilities } from '../capabilities.js';
import type { CallOptions, Connector, Entry, ReadOptions, WriteMeta } from '../connector.js';
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

/** Entries read from the directory handle per batch; also what `listPageSize` reports. */
const LIST_BATCH = 256;
/** Read buffer: large enough for disk throughput, small enough that K transfers stay cheap. */
const READ_HIGH_WATER_MARK = 256 * 1024;

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
 * under the real name. `write` reports the SHA-256 of the bytes it wrote.
 */
export class LocalConnector implements Connector {
  readonly kind = 'local';
  readonly capabilities = LOCAL_CAPABILITIES;
  private readonly root: string;
  /** The root with symbolic links resolved: no path of the account may lead outside it. */
  private realRoot?: Promise<string>;

  constructor(private readonly options: LocalOptions) {
    if (!isAbsolute(options.root)) {
      throw new InvalidPathError(`local root '${options.root}' must be an absolute path`);
    }
    if (options.root.includes('\0')) {
      throw new InvalidPathError('local root must not contain a NUL character');
    }
    this.root = resolve(options.root);
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const abs = await this.confined(rel);
    let handle;
    try {
      handle = await opendir(abs, { bufferSize: LIST_BATCH });
    } catch (e) {
      throw mapFsError(e, rel);
    }
    try {
      for await (const dirent of handle) {
        opts.signal?.throwIfAborted();
        if (isPartialName(dirent.name)) continue;
        const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
        let st: Stats;
        try {
          st = await stat(join(abs, dirent.name));
        } catch (e) {
          // Vanished between readdir and stat, or a dangling symlink: not part of the listing.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw mapFsError(e, childRel);
        }
        if (!st.isFile() && !st.isDirectory()) continue; // sockets, devices, fifos
        // A link that leaves the root is neither listed nor followed (see `confined`).
        if (dirent.isSymbolicLink() && !(await this.isInside(join(abs, dirent.name)))) continue;
        yield toEntry(childRel, st);
      }
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  async stat(path: string): Promise<Entry> {
    const rel = normalizePath(path);
    try {
      return toEntry(rel, await stat(await this.confined(rel)));
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const entry = await this.stat(path);
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
    return createReadStream(this.abs(entry.path), {
      start: offset,
      end: end - 1, // inclusive
      highWaterMark: READ_HIGH_WATER_MARK,
      signal: opts.signal,
    });
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    const target = await this.confined(rel);
    await this.ensureFolder(parentPath(rel), meta);
    await this.assertNotFolder(rel);
    const tmp = this.abs(partialPathFor(rel));
    try {
      // No digest here: a local drive reports no hash of its own (capabilities.hashes is empty),
      // and one computed from this same stream would only repeat the caller's (the engine hashes
      // every transfer): on a copy to a local folder that was a second SHA-256 of every byte.
      await pipeline(body, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }), {
        signal: meta.signal,
      });
      if (this.options.fsync) await flushToDisk(tmp);
      if (meta.modifiedAt) await utimes(tmp, meta.modifiedAt, meta.modifiedAt);
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      // An error of the incoming stream is the caller's (a broken source), not the drive's.
      if (body.errored) throw body.errored;
      throw mapFsError(e, rel);
    }
    return this.stat(rel);
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    await this.confined(rel);
    await this.ensureFolder(rel, opts);
    return this.stat(rel);
  }

  async remove(path: string): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    await this.stat(rel); // NotFound when missing
    try {
      await rm(this.abs(rel), { recursive: true, force: false });
    } catch (e) {
      throw mapFsError(e, rel);
    }
  }

  /**
   * The absolute path of `rel`, refused when symbolic links make it (or, for a path not created
   * yet, its nearest existing folder) lead outside the root: a link to /etc inside a backed-up
   * folder must not let anyone read or write /etc.
   */
  private async confined(rel: string): Promise<string> {
    const abs = this.abs(rel);
    let inside: boolean;
    try {
      inside = rel === '' || (await this.isInside(abs));
    } catch (e) {
      throw mapFsError(e, rel);
    }
    if (!inside) {
      throw new InvalidPathError(`'${rel}' leads outside the account's folder (a symbolic link)`);
    }
    return abs;
  }

  private async isInside(abs: string): Promise<boolean> {
    this.realRoot ??= realpath(this.root).catch(() => this.root);
    const root = await this.realRoot;
    const real = await realPathOrAncestor(abs);
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  }

  private abs(rel: string): string {
    // `rel` is normalised: no '..' or absolute segments, so the join stays under the root.
    return rel === '' ? this.root : join(this.root, ...rel.split('/'));
  }

  private async ensureFolder(rel: string, opts: CallOptions): Promise<void> {
    opts.signal?.throwIfAborted();
    try {
      await mkdir(this.abs(rel), { recursive: true });
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

  private async assertNotFolder(rel: string): Promise<void> {
    try {
      const st = await stat(this.abs(rel));
      if (st.isDirectory())
        throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
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

/** fsync through a fresh descriptor: flushes the file's pages whoever wrote them. */
async function flushToDisk(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
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
