import { pipeline, Readable } from 'node:stream';
import type { FileStat, WebDAVClient } from 'webdav';
import type { CallOptions, Connector, Entry, ReadOptions, WriteMeta } from '../connector.js';
import {
  FatalError,
  IntegrityError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
} from '../connector.errors.js';
import { HashingTransform } from '../hashing/hashing-transform.js';
import type { Pacer } from '../pacer/pacer.js';
import { baseName, joinPath, normalizePath, parentPath } from '../path.js';
import { resumableDownload, type OpenedBody } from '../resumable-download.js';
import { mapWebDavError, WebDavStatusError } from './webdav.errors.js';
import type { DavHttp } from './webdav.http.js';
import { WEBDAV_CAPABILITIES } from './webdav.options.js';
import { isPartialName, partialPathFor } from '../partial-name.js';

const MAX_DOWNLOAD_RESUMES = 10;
/** Folders known to exist, so a backup of many files does not MKCOL the same parent each time. */
const KNOWN_FOLDERS_MAX = 10_000;

type FetchResponse = Awaited<ReturnType<WebDAVClient['customRequest']>>;

/**
 * WebDAV (RFC 4918) through the `webdav` package: PROPFIND (Depth 1) lists, GET with Range reads,
 * PUT streams the body (chunked, never buffered: the package hands a Node stream straight to
 * fetch), MKCOL, DELETE, MOVE. A file is PUT under a hidden temporary name in its folder and then
 * MOVEd over the real name, so a broken upload never sits under the real name.
 *
 * Digest auth: the package answers a 401 challenge by sending the request again, which cannot work
 * with a stream body already consumed. Every PUT is therefore preceded by a PROPFIND through the
 * same client (the folder check), which leaves a fresh nonce in the client, and the PUT goes out
 * with its Authorization header on the first try.
 */
export class WebDavConnector implements Connector {
  readonly kind = 'webdav';
  readonly capabilities = WEBDAV_CAPABILITIES;
  private readonly knownFolders = new Set<string>();
  /** Folders this connector created (MKCOL succeeded): nothing else writes into them. */
  private readonly createdFolders = new Set<string>();
  /** Folders being made now: a write into one waits for that MKCOL instead of sending its own. */
  private readonly foldersInFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly client: WebDAVClient,
    private readonly pacer: Pacer,
    /** Base URL of the account's folder, ending with '/': MOVE needs an absolute Destination. */
    private readonly baseUrl: string,
    /** Digest auth needs the PROPFIND before each PUT (see the class comment); Basic does not. */
    private readonly auth: { digest: boolean } = { digest: true },
    /** With Basic auth: PUT and MOVE through Node's http client (see DavHttp), not the package. */
    private readonly http?: DavHttp,
  ) {}

  async close(): Promise<void> {
    this.http?.close();
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    // WebDAV has no paging: a Depth 1 PROPFIND answers the whole folder in one response.
    const items = await this.call(
      'PROPFIND',
      rel,
      () => this.client.getDirectoryContents(davPath(rel), { signal: opts.signal }),
      opts.signal,
    );
    const children = items as FileStat[];
    if (children.length === 0) {
      const self = await this.stat(rel, opts);
      if (self.kind !== 'folder') throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
      return;
    }
    // A Depth 1 PROPFIND on a file answers with the file itself.
    const self = children.find((i) => normalizePath(i.filename) === rel);
    if (self?.type === 'file') throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
    for (const item of children) {
      if (item === self || isPartialName(item.basename)) continue;
      yield toEntry(joinPath(rel, item.basename), item);
    }
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    const item = await this.call(
      'PROPFIND',
      rel,
      () => this.client.stat(davPath(rel), { signal: opts.signal }),
      opts.signal,
    );
    return toEntry(rel, item as FileStat);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    // A PROPFIND first: a GET on a collection may well answer 200 with an HTML index.
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
    // The package strips the quotes of getetag; If-Match wants the quoted form back.
    // A weak ETag (Apache gives one to a file written within the last second) cannot be used.
    const raw = entry.extras?.etag as string | undefined;
    const etag = raw && !raw.startsWith('W/') ? `"${raw}"` : undefined;
    const first = await this.openGet(rel, offset, end, undefined, opts.signal);
    return resumableDownload(
      first,
      // Pinned to the ETag of the version stat saw, so a resumed stream never mixes two versions.
      (position) => this.openGet(rel, position, end, etag, opts.signal),
      {
        what: rel,
        maxResumes: MAX_DOWNLOAD_RESUMES,
        mapError: (e) => mapWebDavError(e, rel),
        signal: opts.signal,
      },
    );
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    const parent = parentPath(rel);
    await this.ensureFolder(parent, meta);
    if (this.knownFolders.has(rel))
      throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`);
    // In a folder this connector created, nothing is there but what it wrote: the PROPFIND that
    // checks for a folder in the way is only needed elsewhere, or as the digest primer (see the
    // class comment), the last request before the PUT.
    if (this.auth.digest || !this.createdFolders.has(parent)) {
      const existing = await this.stat(rel, meta).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      if (existing?.kind === 'folder')
        throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`);
    }
    const tmp = partialPathFor(rel);
    // Counts what goes out without a 'data' listener (which would start the flow before fetch
    // reads); the callback pipeline carries a source error into the request body.
    const counted = new HashingTransform([]);
    pipeline(body, counted, () => undefined);
    try {
      const headers = {
        'Content-Type': 'application/octet-stream',
        ...(meta.size !== undefined ? { 'Content-Length': String(meta.size) } : {}),
      };
      if (this.http)
        await this.http.send('PUT', tmp, { headers, body: counted, signal: meta.signal });
      else
        await expectOk(
          await this.client.customRequest(davPath(tmp), {
            method: 'PUT',
            headers,
            data: counted,
            signal: meta.signal,
          }),
          'PUT',
        );
      if (body.errored) throw body.errored;
      // MOVE is one request with no body: safe for the pacer to send again.
      const move = { Destination: this.destination(rel), Overwrite: 'T' };
      await this.call(
        'MOVE',
        rel,
        async () => {
          if (this.http) return this.http.send('MOVE', tmp, { headers: move, signal: meta.signal });
          return expectOk(
            await this.client.customRequest(davPath(tmp), {
              method: 'MOVE',
              headers: move,
              signal: meta.signal,
            }),
            'MOVE',
          );
        },
        meta.signal,
      );
    } catch (e) {
      await this.client.deleteFile(davPath(tmp)).catch(() => undefined);
      // An error of the incoming stream is the caller's (a broken source), not the server's.
      if (body.errored) throw body.errored;
      throw mapWebDavError(e, rel);
    }
    if (meta.size !== undefined && counted.bytes === meta.size) {
      // The PUT carried Content-Length and every byte of it: a 2xx answer means the server
      // stored exactly that many (HTTP framing), so a PROPFIND would read back a known size.
      return {
        path: rel,
        name: baseName(rel),
        kind: 'file',
        size: counted.bytes,
        modifiedAt: undefined,
        hashes: {},
      };
    }
    const entry = await this.stat(rel, meta);
    if (entry.size !== counted.bytes)
      throw new IntegrityError(
        `'${rel}': sent ${counted.bytes} bytes, the server holds ${entry.size}`,
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
    await this.stat(rel, opts); // NotFound when missing
    await this.call(
      'DELETE',
      rel,
      () => this.client.deleteFile(davPath(rel), { signal: opts.signal }),
      opts.signal,
    );
    for (const set of [this.knownFolders, this.createdFolders])
      for (const f of set) if (f === rel || f.startsWith(`${rel}/`)) set.delete(f);
  }

  /**
   * MKCOL each missing level from the top; a file in the way is NotADirectoryError. One MKCOL per
   * folder at a time: writes into a new folder start together (4-16 in flight), and each one's
   * own MKCOL made the losers send a PROPFIND to see what won (WebDAV small files at 16 in
   * flight: 0.15 MKCOL and 0.14 PROPFIND per file against 0.04 and 0.02 at 4; issue #21).
   */
  private async ensureFolder(rel: string, opts: CallOptions): Promise<void> {
    if (rel === '' || this.knownFolders.has(rel)) return;
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const cur = parts.slice(0, i).join('/');
      if (this.knownFolders.has(cur)) continue;
      const inFlight = this.foldersInFlight.get(cur);
      if (inFlight) {
        // Its caller's failure (a cancel of that run, a refused MKCOL) is not this one's: if
        // the folder is still not known, this caller tries for itself.
        await inFlight.catch(() => undefined);
        if (this.knownFolders.has(cur)) continue;
      }
      const making = this.makeFolder(cur, opts);
      this.foldersInFlight.set(cur, making);
      try {
        await making;
      } finally {
        if (this.foldersInFlight.get(cur) === making) this.foldersInFlight.delete(cur);
      }
    }
  }

  private async makeFolder(cur: string, opts: CallOptions): Promise<void> {
    try {
      await this.call(
        'MKCOL',
        cur,
        async () =>
          expectOk(
            await this.client.customRequest(davPath(cur), {
              method: 'MKCOL',
              signal: opts.signal,
            }),
            'MKCOL',
          ),
        opts.signal,
      );
      // 201: this connector made it, empty: it holds only what this connector writes.
      if (this.createdFolders.size >= KNOWN_FOLDERS_MAX) this.createdFolders.clear();
      this.createdFolders.add(cur);
    } catch (e) {
      // 405: something sits there already; 403 "File exists": Apache's answer when a parallel
      // MKCOL (another engine, another connector) made it first; 409: a parent is missing or a
      // file. Look at what is there now.
      const there = await this.stat(cur, opts).catch(() => undefined);
      if (there?.kind === 'file')
        throw new NotADirectoryError(`cannot create folder '${cur}': a file is in the way`);
      if (there?.kind !== 'folder') throw e;
    }
    if (this.knownFolders.size >= KNOWN_FOLDERS_MAX) this.knownFolders.clear();
    this.knownFolders.add(cur);
  }

  private async openGet(
    rel: string,
    start: number,
    end: number,
    ifMatch: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<OpenedBody> {
    const res = await this.call(
      'GET',
      rel,
      async () => {
        const r = await this.client.customRequest(davPath(rel), {
          method: 'GET',
          headers: {
            Range: `bytes=${start}-${end - 1}`,
            ...(ifMatch ? { 'If-Match': ifMatch } : {}),
          },
          signal,
        });
        return expectOk(r, 'GET');
      },
      signal,
    );
    const body = (res as unknown as { body: Readable | null }).body;
    if (res.status !== 206 && start > 0) {
      (body as Readable | null)?.destroy();
      throw new FatalError(`the WebDAV server ignored the Range header reading '${rel}'`);
    }
    return { body: body ?? Readable.from([]), start, end };
  }

  private destination(rel: string): string {
    return new URL(rel.split('/').map(encodeURIComponent).join('/'), this.baseUrl).toString();
  }

  private call<T>(
    label: string,
    what: string,
    fn: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.pacer.call(
      label,
      async () => {
        try {
          return await fn();
        } catch (e) {
          throw mapWebDavError(e, what);
        }
      },
      signal,
    );
  }
}

/** The webdav package lets a digest 401 through as a response: treat it, and any >= 400, as an error. */
async function expectOk(res: FetchResponse, method: string): Promise<FetchResponse> {
  if (res.status >= 400) {
    await res.text().catch(() => undefined);
    throw new WebDavStatusError(res.status, method, res);
  }
  return res;
}

function davPath(rel: string): string {
  return `/${rel}`;
}

function toEntry(rel: string, item: FileStat): Entry {
  const isDir = item.type === 'directory';
  const modified = item.lastmod ? new Date(item.lastmod) : undefined;
  return {
    path: rel,
    name: rel === '' ? '' : baseName(rel),
    kind: isDir ? 'folder' : 'file',
    size: isDir ? undefined : item.size,
    modifiedAt: modified && !Number.isNaN(modified.getTime()) ? modified : undefined,
    hashes: {},
    extras: item.etag ? { etag: item.etag } : undefined,
  };
}
