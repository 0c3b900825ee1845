import type { drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import { NotADirectoryError, NotFoundError } from '../connector.errors.js';
import { baseName, parentPath } from '../path.js';
import type { GoogleDriveClient } from './google-drive.client.js';
import {
  entryName,
  FILE_FIELDS,
  FOLDER_MIME,
  isFolder,
  isGoogleNative,
  nativeSourceOf,
  nativeView,
  quote,
} from './google-drive.mapper.js';
import type { GoogleDriveOptions } from './google-drive.options.js';
import { PathCache } from './google-drive.path-cache.js';

type DriveFile = drive_v3.Schema$File;

/**
 * Paths over Drive's ids: Drive has ids, not paths, so a path is resolved folder by folder with
 * `'<parent>' in parents and name = '<name>'` queries, kept in a small cache, and rebuilt from
 * `parents` for the change feed. When several live items share a name in one folder, the OLDEST
 * (createdTime, then id) is the one a path designates.
 */
export class DrivePaths {
  private readonly cache = new PathCache(2048);
  /** id -> path of items seen, so a change feed can name what was deleted. */
  private readonly idPaths = new Map<string, string>();
  private rootId: Promise<string> | undefined;
  private readonly folderCreations = new Map<string, Promise<DriveFile>>();

  constructor(
    private readonly o: GoogleDriveOptions,
    private readonly client: GoogleDriveClient,
  ) {}

  /** The path last seen for a Drive id, if any. */
  knownPath(id: string): string | undefined {
    return this.idPaths.get(id);
  }

  /** Forgets `rel` and everything under it (removed, moved or renamed). */
  forget(rel: string, id?: string): void {
    this.cache.deletePrefix(rel);
    if (id !== undefined) this.idPaths.delete(id);
  }

  clear(): void {
    this.cache.clear();
    this.idPaths.clear();
  }

  listScope(): drive_v3.Params$Resource$Files$List {
    return this.o.sharedDriveId
      ? {
          corpora: 'drive',
          driveId: this.o.sharedDriveId,
          includeItemsFromAllDrives: true,
          supportsAllDrives: true,
        }
      : { supportsAllDrives: true };
  }

  private getRootId(signal?: AbortSignal): Promise<string> {
    if (this.o.sharedDriveId) return Promise.resolve(this.o.sharedDriveId);
    this.rootId ??= this.client
      .call('files.get(root)', 'resolving the My Drive root', () =>
        this.client.drive.files.get({ fileId: 'root', fields: 'id' }, { signal }),
      )
      .then((r) => r.data.id!)
      .catch((e: unknown) => {
        this.rootId = undefined;
        throw e;
      });
    return this.rootId;
  }

  private async rootFolder(signal?: AbortSignal): Promise<DriveFile> {
    return { id: await this.getRootId(signal), name: '', mimeType: FOLDER_MIME };
  }

  /**
   * The item at `rel`, or NotFoundError. With `fresh`, a cached id is re-read (stat/read must
   * report current metadata) and checked to still sit at that path.
   */
  async resolve(rel: string, signal?: AbortSignal, fresh = false): Promise<DriveFile> {
    if (rel === '') return this.rootFolder(signal);
    const cached = this.cache.get(rel);
    if (cached) {
      if (!fresh) return cached;
      const current = await this.getById(cached.id!, signal).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      const parent = this.cache.get(parentPath(rel));
      const stillHere =
        current &&
        !current.trashed &&
        entryName(current, this.o.exportFormats) === baseName(rel) &&
        (parentPath(rel) === '' ||
          parent === undefined ||
          (current.parents ?? []).includes(parent.id!));
      if (current && stillHere) {
        this.remember(rel, current);
        return current;
      }
      this.cache.deletePrefix(rel);
    }
    const parent = await this.resolve(parentPath(rel), signal);
    if (!isFolder(parent))
      throw new NotFoundError(`google-drive: '${rel}' not found ('${parentPath(rel)}' is a file)`);
    const child = await this.findChild(parent.id!, baseName(rel), signal);
    if (!child) throw new NotFoundError(`google-drive: '${rel}' not found`);
    this.remember(rel, child);
    return child;
  }

  private async getById(id: string, signal?: AbortSignal): Promise<DriveFile> {
    const res = await this.client.call(
      'files.get',
      `reading metadata of ${id}`,
      () =>
        this.client.drive.files.get(
          { fileId: id, supportsAllDrives: true, fields: FILE_FIELDS },
          { signal },
        ),
      signal,
    );
    return res.data;
  }

  /**
   * The live child called `name` (as connector paths spell it), oldest first among duplicates.
   * `exactOnly` ignores native documents reached through their export name (writes then create
   * a real file instead of touching the document).
   */
  async findChild(
    parentId: string,
    name: string,
    signal?: AbortSignal,
    o: { exactOnly?: boolean } = {},
  ): Promise<DriveFile | undefined> {
    const base = `${quote(parentId)} in parents and trashed = false`;
    const exact = (await this.query(`${base} and name = ${quote(name)}`, signal)).filter(
      (f) =>
        entryName(f, this.o.exportFormats) === name || (o.exactOnly && !isGoogleNative(f.mimeType)),
    );
    if (exact.length > 0 || o.exactOnly) return oldest(exact);
    const native = nativeSourceOf(name, this.o.exportFormats);
    if (!native) return undefined;
    const docs = await this.query(
      `${base} and name = ${quote(native.baseName)} and mimeType = ${quote(native.mimeType)}`,
      signal,
    );
    return oldest(docs.filter((f) => nativeView(f, this.o.exportFormats).name === name));
  }

  private async query(q: string, signal?: AbortSignal): Promise<DriveFile[]> {
    const out: DriveFile[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.client.call(
        'files.list',
        'looking up a name',
        () =>
          this.client.drive.files.list(
            {
              ...this.listScope(),
              q,
              pageSize: 100,
              pageToken,
              fields: `nextPageToken,files(${FILE_FIELDS})`,
            },
            { signal },
          ),
        signal,
      );
      out.push(...(res.data.files ?? []));
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return out;
  }

  /** mkdir -p: looks each level up first (Drive allows duplicate folder names) and creates what is missing. */
  async ensureFolder(rel: string, signal?: AbortSignal): Promise<DriveFile> {
    if (rel === '') return this.rootFolder(signal);
    const cached = this.cache.get(rel);
    if (cached && isFolder(cached)) return cached;
    // Concurrent writes into the same new folder must not create it twice.
    let pending = this.folderCreations.get(rel);
    if (!pending) {
      pending = this.createFolderChain(rel, signal).finally(() => this.folderCreations.delete(rel));
      this.folderCreations.set(rel, pending);
    }
    return pending;
  }

  private async createFolderChain(rel: string, signal?: AbortSignal): Promise<DriveFile> {
    const parent = await this.ensureFolder(parentPath(rel), signal);
    const name = baseName(rel);
    const found = await this.findChild(parent.id!, name, signal, { exactOnly: true });
    if (found) {
      if (!isFolder(found))
        throw new NotADirectoryError(
          `google-drive: cannot create folder '${rel}': a file is in the way`,
        );
      this.remember(rel, found);
      return found;
    }
    const created = await this.client.call(
      'files.create(folder)',
      `creating folder '${rel}'`,
      async () => {
        // A retried POST whose first answer was lost would make a twin: look again first.
        const again = await this.findChild(parent.id!, name, signal, { exactOnly: true });
        if (again) return again;
        const res = await this.client.drive.files.create(
          {
            supportsAllDrives: true,
            fields: FILE_FIELDS,
            requestBody: { name, mimeType: FOLDER_MIME, parents: [parent.id!] },
          },
          { signal },
        );
        return res.data;
      },
      signal,
    );
    if (!isFolder(created))
      throw new NotADirectoryError(
        `google-drive: cannot create folder '${rel}': a file is in the way`,
      );
    this.remember(rel, created);
    return created;
  }

  remember(rel: string, f: DriveFile): void {
    this.cache.set(rel, f);
    if (f.id) {
      if (this.idPaths.size > 100_000) this.idPaths.clear(); // bounded memory on huge accounts
      this.idPaths.set(f.id, rel);
    }
  }

  /** Rebuilds the path of a file from its parents chain; undefined when it is outside our root. */
  async pathOf(f: DriveFile, signal?: AbortSignal): Promise<string | undefined> {
    const rootId = await this.getRootId(signal);
    const names: string[] = [entryName(f, this.o.exportFormats)];
    let parentId = f.parents?.[0];
    for (let depth = 0; depth < 200 && parentId; depth++) {
      if (parentId === rootId) return names.reverse().join('/');
      const knownPath = this.idPaths.get(parentId);
      if (knownPath !== undefined) return [knownPath, ...names.reverse()].join('/');
      let parent: DriveFile;
      try {
        parent = await this.getById(parentId, signal);
      } catch (e) {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      }
      if (parent.trashed) return undefined;
      names.push(entryName(parent, this.o.exportFormats));
      parentId = parent.parents?.[0];
    }
    return undefined;
  }
}

function oldest(files: DriveFile[]): DriveFile | undefined {
  return [...files].sort(
    (a, b) =>
      (a.createdTime ?? '').localeCompare(b.createdTime ?? '') ||
      (a.id ?? '').localeCompare(b.id ?? ''),
  )[0];
}
