import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { Capabilities } from '../capabilities.js';
import type { CallOptions, Connector, Entry, ReadOptions, WriteMeta } from '../connector.js';
import {
  IntegrityError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
} from '../connector.errors.js';
import { HashingTransform } from '../hashing/hashing-transform.js';
import { baseName, joinPath, normalizePath, parentPath } from '../path.js';
import type { SftpSession } from './sftp.client.js';
import { resumableDownload, type OpenedBody } from '../resumable-download.js';
import { mapSftpError } from './sftp.errors.js';
import { isPartialName, partialPathFor } from '../partial-name.js';
import { SFTP_PIPELINE_DEFAULTS, SftpReadStream, SftpWriteStream } from './sftp.transfer.js';

const MAX_DOWNLOAD_RESUMES = 10;
/** Bound of the known-folders cache (a run's folders; cleared, not evicted, past it). */
const KNOWN_FOLDERS_MAX = 10_000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** Bytes per SFTP read/write request (OpenSSH serves up to 256 KiB; 64 KiB is the safe value). */
const IO_CHUNK = SFTP_PIPELINE_DEFAULTS.chunkSize;

export const SFTP_CAPABILITIES: Capabilities = {
  hashes: [],
  rangedReads: true,
  changeFeed: false,
  serverSideCopy: false,
  writable: true,
  preservesModifiedTime: true,
  uploadChunkSize: IO_CHUNK,
};

function cb<T>(fn: (done: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

/**
 * SFTP (SSH File Transfer Protocol v3, as OpenSSH serves it) through ssh2. Listings page through
 * READDIR batches; reads stream from an offset; writes stream to a hidden temporary file in the
 * same folder, then rename it over the real name (posix-rename@openssh.com, which replaces an
 * existing file atomically; plain SFTP rename refuses to). Reads and writes keep several requests
 * in flight (sftp.transfer.ts): one at a time costs a round trip per 64 KiB.
 */
export class SftpConnector implements Connector {
  readonly kind = 'sftp';
  readonly capabilities = SFTP_CAPABILITIES;

  /** Folders known to exist (made or seen by this connector): no STAT per file for its parent. */
  private readonly knownFolders = new Set<string>();

  constructor(
    private readonly session: SftpSession,
    private readonly root: string,
  ) {}

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const abs = this.abs(rel);
    let handle: Buffer;
    try {
      handle = await this.session.call(
        'opendir',
        rel,
        (s) => cb((d) => s.opendir(abs, d)),
        opts.signal,
      );
    } catch (e) {
      // OpenSSH answers opening a file as a folder with NO_SUCH_FILE (ENOTDIR has no SFTP code).
      const st = await this.stat(rel, opts);
      if (st.kind === 'file') throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
      throw e;
    }
    const sftp = await this.session.sftp();
    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        // One READDIR answers one batch (OpenSSH: up to 100 names); EOF ends the listing.
        const batch = await new Promise<FileEntryWithStats[] | false>((resolve, reject) =>
          sftp.readdir(handle, (err, list) => {
            if (err && (err as { code?: number }).code === 1) return resolve(false);
            if (err) return reject(mapSftpError(err, rel));
            resolve(list ?? false);
          }),
        );
        if (batch === false) return;
        for (const item of batch) {
          if (item.filename === '.' || item.filename === '..') continue;
          if (isPartialName(item.filename)) continue;
          const type = item.attrs.mode & S_IFMT;
          if (type !== S_IFDIR && type !== S_IFREG) continue; // links, sockets, devices
          yield toEntry(joinPath(rel, item.filename), item.attrs);
        }
      }
    } finally {
      sftp.close(handle, () => undefined);
    }
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    const abs = this.abs(rel);
    const st = await this.session.call(
      'stat',
      rel,
      (s) => cb<Stats>((d) => s.stat(abs, d)),
      opts.signal,
    );
    return toEntry(rel, st);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    const entry = await this.stat(rel, opts);
    if (entry.kind === 'folder') throw new IsADirectoryError(`'${rel}' is a folder`);
    const size = entry.size ?? 0;
    const offset = opts.range?.offset ?? 0;
    if (offset < 0 || offset > size)
      throw new InvalidRangeError(
        `range starts at ${offset}, past the end of '${rel}' (${size} bytes)`,
      );
    const end =
      opts.range?.length === undefined ? size : Math.min(size, offset + opts.range.length);
    if (end <= offset) return Readable.from([]);
    const open = async (start: number): Promise<OpenedBody> => {
      const sftp = await this.session.call('open', rel, async (s) => s, opts.signal);
      const body = new SftpReadStream(sftp, this.abs(rel), start, end, SFTP_PIPELINE_DEFAULTS);
      return { body, start, end };
    };
    return resumableDownload(await open(offset), open, {
      what: rel,
      maxResumes: MAX_DOWNLOAD_RESUMES,
      mapError: (e) => mapSftpError(e, rel),
      signal: opts.signal,
    });
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    await this.ensureFolder(parentPath(rel), meta);
    // No STAT of the target first (a round trip per file): a folder in the way makes the rename
    // below fail, and only then is the target looked at.
    const tmpRel = partialPathFor(rel);
    const tmp = this.abs(tmpRel);
    const target = this.abs(rel);
    const counter = new HashingTransform([]);
    let sftp: SFTPWrapper | undefined;
    try {
      sftp = await this.session.sftp();
      // Pipelined WRITEs; 'finish' (hence the pipeline) comes once every one is acknowledged
      // and the remote handle is closed.
      const out = new SftpWriteStream(sftp, tmp, { ...SFTP_PIPELINE_DEFAULTS, mode: 0o644 });
      await pipeline(body, counter, out, { signal: meta.signal });
      const s = sftp;
      if (meta.modifiedAt) {
        const t = meta.modifiedAt;
        await cb((d) => s.utimes(tmp, t, t, d));
      }
      await cb((d) => s.ext_openssh_rename(tmp, target, d)).catch(async (e: unknown) => {
        // Servers without posix-rename: plain RENAME refuses to replace, so make room first.
        if ((e as { code?: number }).code !== 8 && !/not supported/i.test(String(e))) throw e;
        await cb((d) => s.unlink(target, d)).catch(() => undefined);
        await cb((d) => s.rename(tmp, target, d));
      });
    } catch (e) {
      // The folder may have gone behind our back: the next attempt looks again.
      this.knownFolders.delete(parentPath(rel));
      const s = sftp;
      if (s) await cb((d) => s.unlink(tmp, d)).catch(() => undefined);
      // An error of the incoming stream is the caller's (a broken source), not the server's.
      if (body.errored) throw body.errored;
      const there = await this.stat(rel, meta).catch(() => undefined);
      if (there?.kind === 'folder')
        throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`, { cause: e });
      throw mapSftpError(e, rel);
    }
    const entry = await this.stat(rel, meta);
    if (entry.size !== counter.bytes)
      throw new IntegrityError(
        `'${rel}': sent ${counter.bytes} bytes, the server holds ${entry.size}`,
      );
    return entry;
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    await this.ensureFolder(rel, opts);
    return this.stat(rel, opts);
  }

  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    const entry = await this.stat(rel, opts);
    for (const f of this.knownFolders)
      if (f === rel || f.startsWith(`${rel}/`)) this.knownFolders.delete(f);
    await this.removeEntry(entry, opts);
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  private async removeEntry(entry: Entry, opts: CallOptions): Promise<void> {
    const abs = this.abs(entry.path);
    if (entry.kind === 'file') {
      await this.session.call(
        'unlink',
        entry.path,
        (s) => cb((d) => s.unlink(abs, d)),
        opts.signal,
      );
      return;
    }
    const children: Entry[] = [];
    for await (const child of this.listAll(entry.path, opts)) children.push(child);
    for (const child of children) await this.removeEntry(child, opts);
    await this.session.call('rmdir', entry.path, (s) => cb((d) => s.rmdir(abs, d)), opts.signal);
  }

  /** Like list(), but with the temporary files too (remove() must take them as well). */
  private async *listAll(rel: string, opts: CallOptions): AsyncIterable<Entry> {
    const abs = this.abs(rel);
    const sftp = await this.session.sftp();
    const items = await this.session.call(
      'readdir',
      rel,
      () => cb<FileEntryWithStats[]>((d) => sftp.readdir(abs, d)),
      opts.signal,
    );
    for (const item of items) {
      if (item.filename === '.' || item.filename === '..') continue;
      yield toEntry(joinPath(rel, item.filename), item.attrs);
    }
  }

  /** Creates each missing level from the top; a file in the way is NotADirectoryError. */
  private async ensureFolder(rel: string, opts: CallOptions): Promise<void> {
    if (rel === '' || this.knownFolders.has(rel)) return;
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const cur = parts.slice(0, i).join('/');
      if (this.knownFolders.has(cur)) continue;
      await this.ensureOneFolder(cur, opts);
      if (this.knownFolders.size >= KNOWN_FOLDERS_MAX) this.knownFolders.clear();
      this.knownFolders.add(cur);
    }
  }

  private async ensureOneFolder(cur: string, opts: CallOptions): Promise<void> {
    const abs = this.abs(cur);
    const there = await this.stat(cur, opts).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (there?.kind === 'folder') return;
    if (there) throw new NotADirectoryError(`cannot create folder '${cur}': a file is in the way`);
    try {
      await this.session.call('mkdir', cur, (s) => cb((d) => s.mkdir(abs, d)), opts.signal);
    } catch (e) {
      // Created meanwhile by a parallel write: fine when it is a folder now.
      const now = await this.stat(cur, opts).catch(() => undefined);
      if (now?.kind !== 'folder') throw e;
    }
  }

  private abs(rel: string): string {
    if (this.root === '') return rel === '' ? '.' : rel;
    if (this.root === '/') return `/${rel}`;
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }
}

function toEntry(rel: string, st: { mode: number; size: number; mtime: number }): Entry {
  const isDir = (st.mode & S_IFMT) === S_IFDIR;
  return {
    path: rel,
    name: rel === '' ? '' : baseName(rel),
    kind: isDir ? 'folder' : 'file',
    size: isDir ? undefined : st.size,
    modifiedAt: new Date(st.mtime * 1000),
    hashes: {},
  };
}
