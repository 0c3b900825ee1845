import { Readable } from 'node:stream';
import type { Capabilities } from '../capabilities.js';
import type {
  CallOptions,
  Change,
  ChangeFeed,
  ChangePage,
  Connector,
  Entry,
  ReadOptions,
  ServerSideCopier,
  WriteMeta,
} from '../connector.js';
import {
  AlreadyExistsError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
} from '../connector.errors.js';
import { baseName, joinPath, normalizePath, parentPath } from '../path.js';
import type {
  DropboxFileMetadata,
  DropboxFolderMetadata,
  DropboxListFolderResult,
  DropboxMetadata,
} from './api/types.js';
import type { DropboxClient } from './dropbox.client.js';
import { resumableDownload, spanOf, type OpenedBody } from './dropbox.download.js';
import { mapDropboxError } from './dropbox.errors.js';
import { relativeDisplayPath, rootEntry, toDropboxPath, toEntry } from './dropbox.mapper.js';
import { dropboxCapabilities } from './dropbox.options.js';
import { uploadFile } from './dropbox.upload.js';

/** Resumptions of one download before its stream errors. */
const MAX_DOWNLOAD_RESUMES = 10;

export { DROPBOX_CAPABILITIES, dropboxCapabilities } from './dropbox.options.js';

export interface DropboxConnectorSettings {
  client: DropboxClient;
  uploadChunkSize: number;
  listPageSize: number;
}

type Listed = DropboxFileMetadata | DropboxFolderMetadata;

/**
 * Dropbox API v2 through the official SDK (RPC and upload-session calls) and raw requests to the
 * content host for downloads (the SDK buffers those). Paths map 'a/b' <-> '/a/b', root '' <-> ''.
 */
export class DropboxConnector implements Connector, ChangeFeed, ServerSideCopier {
  readonly kind = 'dropbox';
  readonly capabilities: Capabilities;
  private readonly client: DropboxClient;

  constructor(private readonly settings: DropboxConnectorSettings) {
    this.client = settings.client;
    this.capabilities = dropboxCapabilities(settings.uploadChunkSize, settings.listPageSize);
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    let page = await this.client.call<DropboxListFolderResult>(
      'files/list_folder',
      rel,
      'list',
      (sdk) =>
        sdk.filesListFolder({
          path: toDropboxPath(rel),
          recursive: false,
          include_deleted: false,
          include_non_downloadable_files: true,
          limit: this.settings.listPageSize,
        }) as never,
      opts.signal,
    );
    for (;;) {
      for (const m of page.entries) {
        if (m['.tag'] === 'deleted') continue;
        yield toEntry(joinPath(rel, m.name), m);
      }
      if (!page.has_more) return;
      opts.signal?.throwIfAborted();
      const cursor = page.cursor;
      page = await this.client.call<DropboxListFolderResult>(
        'files/list_folder/continue',
        rel,
        'list',
        (sdk) => sdk.filesListFolderContinue({ cursor }) as never,
        opts.signal,
      );
    }
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') return rootEntry(); // get_metadata does not accept the root
    const m = await this.client.call<DropboxMetadata>(
      'files/get_metadata',
      rel,
      'stat',
      (sdk) => sdk.filesGetMetadata({ path: toDropboxPath(rel), include_deleted: false }) as never,
      opts.signal,
    );
    if (m['.tag'] === 'deleted') throw new NotFoundError(`'${rel}' was deleted`);
    return toEntry(joinPath(parentPath(rel), m.name), m);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('the root is a folder');
    const offset = opts.range?.offset ?? 0;
    const length = opts.range?.length;
    if (offset < 0 || (length !== undefined && length < 0))
      throw new InvalidRangeError(`invalid range ${offset}+${length}`);
    if (length === 0) return this.emptyRead(rel, offset, opts);
    const last = length === undefined ? undefined : offset + length - 1;
    const ranged = opts.range !== undefined;
    let first: OpenedBody;
    let rev: string;
    try {
      ({ first, rev } = await this.openDownload(
        toDropboxPath(rel),
        rel,
        ranged ? { start: offset, end: last } : undefined,
        opts.signal,
      ));
    } catch (e) {
      if (e instanceof InvalidRangeError) return this.emptyRead(rel, offset, opts);
      throw e;
    }
    return resumableDownload(
      first,
      async (position) =>
        // Pinned to the revision first served, so a resumed stream never mixes two versions.
        (
          await this.openDownload(
            `rev:${rev}`,
            rel,
            { start: position, end: first.end - 1 },
            opts.signal,
          )
        ).first,
      { what: rel, maxResumes: MAX_DOWNLOAD_RESUMES, signal: opts.signal },
    );
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    const m = await uploadFile({
      client: this.client,
      path: toDropboxPath(rel),
      what: rel,
      body,
      chunkSize: this.settings.uploadChunkSize,
      sizeHint: meta.size,
      modifiedAt: meta.modifiedAt,
      signal: meta.signal,
      session: meta.session,
    });
    return toEntry(joinPath(parentPath(rel), m.name), m);
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') return rootEntry();
    try {
      const r = await this.client.call<{ metadata: DropboxFolderMetadata }>(
        'files/create_folder_v2',
        rel,
        'mkdir',
        (sdk) => sdk.filesCreateFolderV2({ path: toDropboxPath(rel), autorename: false }) as never,
        opts.signal,
      );
      return toEntry(joinPath(parentPath(rel), r.metadata.name), r.metadata);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const existing = await this.stat(rel, opts); // idempotent: a folder already there is fine
      if (existing.kind !== 'folder')
        throw new NotADirectoryError(`a file sits at '${rel}'`, { cause: e });
      return existing;
    }
  }

  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    await this.client.call(
      'files/delete_v2',
      rel,
      'remove',
      (sdk) => sdk.filesDeleteV2({ path: toDropboxPath(rel) }),
      opts.signal,
    );
  }

  async copy(from: string, to: string, opts: CallOptions = {}): Promise<Entry> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    const r = await this.client.call<{ metadata: Listed }>(
      'files/copy_v2',
      `${src} -> ${dst}`,
      'copy',
      (sdk) =>
        sdk.filesCopyV2({
          from_path: toDropboxPath(src),
          to_path: toDropboxPath(dst),
          autorename: false,
          allow_ownership_transfer: false,
        }) as never,
      opts.signal,
    );
    return toEntry(joinPath(parentPath(dst), r.metadata.name), r.metadata);
  }

  async currentCursor(dir: string, opts: CallOptions = {}): Promise<string> {
    const rel = normalizePath(dir);
    const r = await this.client.call<{ cursor: string }>(
      'files/list_folder/get_latest_cursor',
      rel,
      'feed',
      (sdk) =>
        sdk.filesListFolderGetLatestCursor({
          path: toDropboxPath(rel),
          recursive: true,
          include_deleted: false,
          include_non_downloadable_files: true,
          limit: this.settings.listPageSize,
        }) as never,
      opts.signal,
    );
    return r.cursor;
  }

  async changes(dir: string, cursor: string, opts: CallOptions = {}): Promise<ChangePage> {
    const rel = normalizePath(dir);
    const page = await this.client.call<DropboxListFolderResult>(
      'files/list_folder/continue',
      rel,
      'feed',
      (sdk) => sdk.filesListFolderContinue({ cursor }) as never,
      opts.signal,
    );
    const changes: Change[] = [];
    for (const m of page.entries) {
      const relPath = relativeDisplayPath(m, rel);
      if (relPath === '') continue; // the watched folder itself
      const full = joinPath(rel, relPath);
      if (m['.tag'] === 'deleted') changes.push({ type: 'delete', path: full });
      else changes.push({ type: 'upsert', entry: toEntry(full, m) });
    }
    return { changes, cursor: page.cursor, hasMore: page.has_more };
  }

  private async openDownload(
    dbxPath: string,
    what: string,
    range: { start: number; end?: number } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ first: OpenedBody; rev: string }> {
    return this.client.pacer.call(
      'files/download',
      async () => {
        try {
          const { res, metadata } = await this.client.download({ path: dbxPath }, range, signal);
          let span: { start: number; end: number };
          try {
            span = spanOf(res, range?.start ?? 0, metadata.size);
          } catch (e) {
            res.body.destroy();
            throw e;
          }
          return { first: { body: res.body, ...span }, rev: metadata.rev };
        } catch (e) {
          throw mapDropboxError(e, what, 'read');
        }
      },
      signal,
    );
  }

  private async emptyRead(rel: string, offset: number, opts: CallOptions): Promise<Readable> {
    const entry = await this.stat(rel, opts);
    if (entry.kind === 'folder') throw new IsADirectoryError(`'${rel}' is a folder`);
    const size = entry.size ?? 0;
    if (offset > size) {
      throw new InvalidRangeError(
        `range starts at ${offset}, past the end of '${baseName(rel)}' (${size} bytes)`,
      );
    }
    return Readable.from([]);
  }
}
