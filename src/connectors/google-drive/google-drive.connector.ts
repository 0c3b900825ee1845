import { Readable } from 'node:stream';
import type { drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import { systemClock, type Clock } from '../../common/clock.js';
import type { Capabilities } from '../capabilities.js';
import type { ConnectorSecrets } from '../connector-descriptor.js';
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
  CursorExpiredError,
  IntegrityError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UnsupportedError,
} from '../connector.errors.js';
import { Pacer } from '../pacer/pacer.js';
import { baseName, normalizePath, parentPath, relativeTo } from '../path.js';
import { GoogleDriveClient } from './google-drive.client.js';
import { resumingDownload } from './google-drive.download.js';
import { headerOf, httpStatusOf, quotaMessage } from './google-drive.errors.js';
import {
  entryName,
  FILE_FIELDS,
  isFolder,
  isGoogleNative,
  nativeSourceOf,
  nativeView,
  quote,
  toEntry,
} from './google-drive.mapper.js';
import { googleDriveCapabilities, type GoogleDriveOptions } from './google-drive.options.js';
import { DrivePaths } from './google-drive.paths.js';
import { uploadResumable } from './google-drive.upload.js';

export { GOOGLE_DRIVE_CAPABILITIES } from './google-drive.options.js';

export interface GoogleDriveDeps {
  clock?: Clock;
  saveSecrets?: (s: ConnectorSecrets) => Promise<void>;
  pacer?: Pacer;
}

type DriveFile = drive_v3.Schema$File;

/**
 * Google Drive (API v3). Paths are resolved over Drive's ids by `DrivePaths`. Names are not
 * unique in Drive; when several live items share a name in one folder, the OLDEST (createdTime,
 * then id) is the one a path designates, in lookups and in listings alike (later ones are left
 * out of listings). Google-native documents appear as `Name.docx|xlsx|pptx` exports, or with
 * `extras.skipReason` when their export is disabled.
 */
export class GoogleDriveConnector implements Connector, ChangeFeed, ServerSideCopier {
  readonly kind = 'google-drive';
  readonly capabilities: Capabilities;
  readonly client: GoogleDriveClient;
  private readonly paths: DrivePaths;

  constructor(
    private readonly o: GoogleDriveOptions,
    deps: GoogleDriveDeps = {},
  ) {
    const pacer = deps.pacer ?? new Pacer({ clock: deps.clock ?? systemClock, minIntervalMs: 0 });
    this.client = new GoogleDriveClient(o, pacer, deps.saveSecrets ?? (async () => undefined));
    this.paths = new DrivePaths(o, this.client);
    this.capabilities = googleDriveCapabilities(o);
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const folder = await this.paths.resolve(rel, opts.signal);
    if (!isFolder(folder))
      throw new NotADirectoryError(`google-drive: '${rel}' is a file, not a folder`);
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const page = await this.client.call(
        'files.list',
        `listing '${rel}'`,
        () =>
          this.client.drive.files.list(
            {
              ...this.paths.listScope(),
              q: `${quote(folder.id!)} in parents and trashed = false`,
              pageSize: this.o.listPageSize,
              pageToken,
              // Oldest first, so the first of duplicate names is the one paths resolve to.
              orderBy: 'createdTime',
              fields: `nextPageToken,files(${FILE_FIELDS})`,
            },
            { signal: opts.signal },
          ),
        opts.signal,
      );
      for (const f of page.data.files ?? []) {
        const name = entryName(f, this.o.exportFormats);
        if (seen.has(name)) continue; // a younger duplicate: the path belongs to the oldest
        seen.add(name);
        const entry = toEntry(f, rel, this.o.exportFormats);
        this.paths.remember(entry.path, f);
        yield entry;
      }
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    const f = await this.paths.resolve(rel, opts.signal, true);
    if (rel === '')
      return { path: '', name: '', kind: 'folder', id: f.id ?? undefined, hashes: {} };
    return toEntry(f, parentPath(rel), this.o.exportFormats);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    const f = await this.paths.resolve(rel, opts.signal, true);
    if (isFolder(f)) throw new IsADirectoryError(`google-drive: '${rel}' is a folder`);
    if (isGoogleNative(f.mimeType)) return this.readExport(rel, f, opts);
    const size = Number(f.size ?? 0);
    const offset = opts.range?.offset ?? 0;
    if (offset > size) {
      throw new InvalidRangeError(
        `google-drive: range starts at ${offset}, past the end of '${rel}' (${size} bytes)`,
      );
    }
    const end =
      opts.range?.length === undefined ? size : Math.min(size, offset + opts.range.length);
    if (end <= offset) return Readable.from([]);
    const what = `downloading '${rel}'`;
    return resumingDownload({
      start: offset,
      end,
      signal: opts.signal,
      open: async (from) => {
        const res = await this.client.call(
          'files.get(media)',
          what,
          () =>
            this.client.drive.files.get(
              { fileId: f.id!, alt: 'media', supportsAllDrives: true },
              {
                responseType: 'stream',
                headers: { Range: `bytes=${from}-${end - 1}` },
                signal: opts.signal,
              },
            ),
          opts.signal,
        );
        const body = res.data as unknown as Readable;
        const total = /\/(\d+)$/.exec(headerOf(res.headers, 'content-range') ?? '')?.[1];
        if (total !== undefined && Number(total) !== size) {
          body.destroy();
          throw new IntegrityError(
            `google-drive: '${rel}' changed during the download (${size} -> ${total} bytes)`,
          );
        }
        return body;
      },
    });
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '')
      throw new IsADirectoryError('google-drive: cannot write a file over the root folder');
    const name = baseName(rel);
    const parent = await this.paths.ensureFolder(parentPath(rel), meta.signal);
    const existing = await this.paths.findChild(parent.id!, name, meta.signal, { exactOnly: true });
    if (existing && isFolder(existing)) {
      body.destroy();
      throw new IsADirectoryError(`google-drive: '${rel}' is a folder; a file cannot replace it`);
    }
    const metadata: DriveFile = {};
    if (meta.modifiedAt) metadata.modifiedTime = meta.modifiedAt.toISOString();
    if (!existing) Object.assign(metadata, { name, parents: [parent.id!] });
    // Overwrite = new content for the same id (PATCH), so the path never shows two files.
    const file = await uploadResumable({
      client: this.client,
      fileId: existing?.id ?? undefined,
      metadata,
      body,
      size: meta.size,
      chunkSize: this.o.uploadChunkSize,
      what: `uploading '${rel}'`,
      signal: meta.signal,
      session: meta.session,
    });
    if (meta.size !== undefined && Number(file.size) !== meta.size) {
      throw new IntegrityError(
        `google-drive: '${rel}' stored ${file.size} bytes, ${meta.size} were sent`,
      );
    }
    this.paths.remember(rel, file);
    return toEntry(file, parentPath(rel), this.o.exportFormats);
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    const f = await this.paths.ensureFolder(rel, opts.signal);
    if (rel === '')
      return { path: '', name: '', kind: 'folder', id: f.id ?? undefined, hashes: {} };
    return toEntry(f, parentPath(rel), this.o.exportFormats);
  }

  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('google-drive: refusing to remove the root folder');
    const f = await this.paths.resolve(rel, opts.signal);
    try {
      await this.client.call(
        this.o.useTrash ? 'files.update(trash)' : 'files.delete',
        `removing '${rel}'`,
        async () => {
          if (this.o.useTrash) {
            await this.client.drive.files.update(
              {
                fileId: f.id!,
                supportsAllDrives: true,
                fields: 'id',
                requestBody: { trashed: true },
              },
              { signal: opts.signal },
            );
          } else {
            await this.client.drive.files.delete(
              { fileId: f.id!, supportsAllDrives: true },
              { signal: opts.signal },
            );
          }
        },
        opts.signal,
      );
    } catch (e) {
      // A retried DELETE whose first answer was lost finds nothing: the item is gone either way.
      if (!(e instanceof NotFoundError)) throw e;
    }
    this.paths.forget(rel);
  }

  async copy(from: string, to: string, opts: CallOptions = {}): Promise<Entry> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    if (dst === '') throw new IsADirectoryError('google-drive: cannot copy over the root folder');
    const f = await this.paths.resolve(src, opts.signal);
    if (isFolder(f))
      throw new UnsupportedError('google-drive: folders cannot be copied server-side');
    const parent = await this.paths.ensureFolder(parentPath(dst), opts.signal);
    const existing = await this.paths.findChild(parent.id!, baseName(dst), opts.signal, {
      exactOnly: true,
    });
    if (existing && isFolder(existing))
      throw new IsADirectoryError(`google-drive: '${dst}' is a folder`);
    const name = isGoogleNative(f.mimeType)
      ? (nativeSourceOf(baseName(dst), this.o.exportFormats)?.baseName ?? baseName(dst))
      : baseName(dst);
    let copied: DriveFile;
    try {
      copied = (
        await this.client.call(
          'files.copy',
          `copying '${src}' to '${dst}'`,
          () =>
            this.client.drive.files.copy(
              {
                fileId: f.id!,
                supportsAllDrives: true,
                fields: FILE_FIELDS,
                requestBody: { name, parents: [parent.id!] },
              },
              { signal: opts.signal },
            ),
          opts.signal,
        )
      ).data;
    } catch (e) {
      if (e instanceof RateLimitedError && e.providerCode === 'userRateLimitExceeded') {
        // Copies have their own daily cap, reported as a rate limit that never lifts (rclone #1552).
        throw new QuotaExceededError(quotaMessage('userRateLimitExceeded', `copying '${src}'`), {
          cause: e,
        });
      }
      throw e;
    }
    if (existing?.id) {
      await this.client
        .call('files.delete', `replacing '${dst}'`, () =>
          this.client.drive.files.delete(
            { fileId: existing.id!, supportsAllDrives: true },
            { signal: opts.signal },
          ),
        )
        .catch((e: unknown) => {
          if (!(e instanceof NotFoundError)) throw e;
        });
    }
    this.paths.remember(dst, copied);
    return toEntry(copied, parentPath(dst), this.o.exportFormats);
  }

  async currentCursor(_dir: string, opts: CallOptions = {}): Promise<string> {
    const res = await this.client.call(
      'changes.getStartPageToken',
      'reading the change cursor',
      () =>
        this.client.drive.changes.getStartPageToken(
          {
            supportsAllDrives: true,
            ...(this.o.sharedDriveId ? { driveId: this.o.sharedDriveId } : {}),
          },
          { signal: opts.signal },
        ),
      opts.signal,
    );
    const token = res.data.startPageToken;
    if (!token)
      throw new IntegrityError('google-drive: changes.getStartPageToken returned no token');
    return token;
  }

  /**
   * Drive changes are account (or shared drive) wide; `dir` filters them. Paths are rebuilt from
   * `parents`. Deletions of items never seen by this connector instance have no known path and
   * are left out (a backup then keeps a copy too many, never one too few).
   */
  async changes(dir: string, cursor: string, opts: CallOptions = {}): Promise<ChangePage> {
    const scope = normalizePath(dir);
    const res = await this.client.call(
      'changes.list',
      'reading changes',
      async () => {
        try {
          return await this.client.drive.changes.list(
            {
              pageToken: cursor,
              pageSize: 1000,
              includeRemoved: true,
              spaces: 'drive',
              supportsAllDrives: true,
              includeItemsFromAllDrives: true,
              ...(this.o.sharedDriveId ? { driveId: this.o.sharedDriveId } : {}),
              fields: `nextPageToken,newStartPageToken,changes(changeType,time,removed,fileId,driveId,file(${FILE_FIELDS}))`,
            },
            { signal: opts.signal },
          );
        } catch (e) {
          const status = httpStatusOf(e);
          if (status === 400 || status === 404 || status === 410) {
            throw new CursorExpiredError(
              'google-drive: the stored change cursor was rejected; a full listing is needed',
              {
                cause: e,
              },
            );
          }
          throw e;
        }
      },
      opts.signal,
    );
    const out: Change[] = [];
    for (const ch of res.data.changes ?? []) {
      if (ch.changeType === 'drive' || !ch.fileId) continue;
      const f = ch.file;
      if (ch.removed || !f || f.trashed) {
        const known =
          this.paths.knownPath(ch.fileId) ??
          (f ? await this.paths.pathOf(f, opts.signal) : undefined);
        if (known === undefined) continue;
        this.paths.forget(known, ch.fileId);
        if (relativeTo(scope, known) !== undefined)
          out.push({ type: 'delete', path: known, id: ch.fileId });
        continue;
      }
      const path = await this.paths.pathOf(f, opts.signal);
      if (path === undefined) continue; // outside this drive's tree (shared with me, other drive)
      const old = this.paths.knownPath(ch.fileId);
      if (old !== undefined && old !== path) {
        // Moved or renamed: the old path is gone (changes carry only the new state).
        this.paths.forget(old);
        if (relativeTo(scope, old) !== undefined)
          out.push({ type: 'delete', path: old, id: ch.fileId });
      }
      this.paths.remember(path, f);
      if (relativeTo(scope, path) !== undefined) {
        out.push({ type: 'upsert', entry: toEntry(f, parentPath(path), this.o.exportFormats) });
      }
    }
    const next = res.data.nextPageToken ?? res.data.newStartPageToken;
    if (!next) throw new IntegrityError('google-drive: changes.list returned no next cursor');
    return { changes: out, cursor: next, hasMore: Boolean(res.data.nextPageToken) };
  }

  async close(): Promise<void> {
    this.paths.clear();
  }

  private async readExport(rel: string, f: DriveFile, opts: ReadOptions): Promise<Readable> {
    const view = nativeView(f, this.o.exportFormats);
    if (!view.exportMimeType)
      throw new UnsupportedError(`google-drive: '${rel}' is skipped: ${view.skipReason}`);
    if ((opts.range?.offset ?? 0) !== 0) {
      throw new UnsupportedError(
        `google-drive: '${rel}' is an export of a Google document; ranged reads are not possible`,
      );
    }
    const res = await this.client.call(
      'files.export',
      `exporting '${rel}'`,
      () =>
        this.client.drive.files.export(
          { fileId: f.id!, mimeType: view.exportMimeType! },
          { responseType: 'stream', signal: opts.signal },
        ),
      opts.signal,
    );
    return res.data as unknown as Readable;
  }
}
