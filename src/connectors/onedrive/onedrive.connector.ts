import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../common/clock.js';
import type { Capabilities } from '../capabilities.js';
import type {
  CallOptions,
  Change,
  ChangeFeed,
  ChangePage,
  Connector,
  ConnectorPath,
  Entry,
  ReadOptions,
  ServerSideCopier,
  WriteMeta,
} from '../connector.js';
import {
  AlreadyExistsError,
  CursorExpiredError,
  FatalError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  QuotaExceededError,
  TransientError,
} from '../connector.errors.js';
import type { ConnectorSecrets } from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { baseName, normalizePath, parentPath, relativeTo } from '../path.js';
import type { CopyMonitorStatus, GraphCollection, GraphDriveItem } from './api/types.js';
import { ResumableDownload, type OpenedBody } from './onedrive-download.js';
import { OneDriveTokenManager } from './onedrive.auth.js';
import { OneDriveWriter } from './onedrive.write.js';
import { OneDriveClient } from './onedrive.client.js';
import { throwIfFailed } from './onedrive.errors.js';
import { ITEM_SELECT, isFolderItem, toEntry } from './onedrive.mapper.js';
import { decodeName, drivePrefix, encodeName, itemPathAddress } from './onedrive.names.js';
import { oneDriveCapabilities, type OneDriveOptions } from './onedrive.options.js';

export { ONEDRIVE_CAPABILITIES } from './onedrive.options.js';

/** Folders known to exist, to spare a lookup per write; bounded. */
const FOLDER_CACHE_MAX = 2048;
/** Copy monitor polling: first look soon, then back off to this. */
const COPY_POLL_MAX_MS = 5000;
const COPY_TIMEOUT_MS = 30 * 60_000;

export interface OneDriveConnectorDeps {
  clock?: Clock;
  saveSecrets?: (secrets: ConnectorSecrets) => Promise<void>;
  /** Tests inject a pacer with a fast clock/backoff. */
  pacer?: Pacer;
  /** fetch used for the token endpoint (the SDK uses the global fetch). */
  fetch?: typeof fetch;
}

/**
 * OneDrive, OneDrive for Business and SharePoint document libraries through Microsoft Graph v1.0
 * and its official SDK. Items are addressed by path (`root:/a/b:`), names are mapped around the
 * characters the service refuses (onedrive.names.ts), uploads go through upload sessions in
 * 320 KiB-aligned fragments and resume from the server's `nextExpectedRanges`, downloads stream
 * the 302 pre-authenticated URL and resume with Range, the change feed is `delta`.
 */
export class OneDriveConnector implements Connector, ChangeFeed, ServerSideCopier {
  readonly kind = 'onedrive';
  readonly capabilities: Capabilities;
  private readonly client: OneDriveClient;
  private readonly pacer: Pacer;
  private readonly clock: Clock;
  private readonly writer: OneDriveWriter;
  private readonly knownFolders = new Map<ConnectorPath, string>();
  private rootId?: string;
  private driveIdCache?: string;

  constructor(
    private readonly options: OneDriveOptions,
    deps: OneDriveConnectorDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.pacer = deps.pacer ?? new Pacer({ clock: this.clock });
    const tokens = new OneDriveTokenManager({
      authorityBaseUrl: options.authorityBaseUrl,
      tenant: options.tenant,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      refreshToken: options.refreshToken,
      accessToken: options.accessToken,
      accessTokenExpiresAt: options.accessTokenExpiresAt,
      clock: this.clock,
      saveSecrets: deps.saveSecrets ?? (async () => undefined),
      fetch: deps.fetch,
    });
    this.client = new OneDriveClient({
      graphBaseUrl: options.graphBaseUrl,
      tokens,
      pacer: this.pacer,
    });
    this.writer = new OneDriveWriter(this.client, this.pacer, options);
    this.capabilities = oneDriveCapabilities(options);
  }

  get retryPacer(): Pacer {
    return this.pacer;
  }

  // ---------------------------------------------------------------- read side

  async *list(dir: ConnectorPath, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const address = itemPathAddress(this.options.driveId, rel);
    let url: string | undefined =
      `${address}/children?$top=${this.options.listPageSize}&$select=${ITEM_SELECT}`;
    let first = true;
    while (url !== undefined) {
      const pageUrl: string = url;
      const page = await this.client.call(
        'onedrive.list',
        rel,
        () =>
          this.client.api(pageUrl, opts.signal).get() as Promise<GraphCollection<GraphDriveItem>>,
        opts.signal,
      );
      if (first && page.value.length === 0) {
        // Graph answers an empty collection for the children of a file: tell the two apart.
        const self = await this.stat(rel, opts);
        if (self.kind !== 'folder')
          throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
      }
      first = false;
      for (const item of page.value) {
        if (item.name === undefined) continue;
        yield toEntry(item, joinRel(rel, decodeName(item.name)));
      }
      // nextLink is opaque and absolute: followed verbatim (section 4).
      url = page['@odata.nextLink'];
    }
  }

  async stat(path: ConnectorPath, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    return toEntry(await this.getItem(rel, opts), rel);
  }

  async read(path: ConnectorPath, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    const item = await this.getItem(rel, opts);
    if (isFolderItem(item)) throw new IsADirectoryError(`'${rel}' is a folder`);
    const size = item.size ?? 0;
    const offset = opts.range?.offset ?? 0;
    if (offset < 0) throw new InvalidRangeError(`negative range offset for '${rel}'`);
    if (offset > size)
      throw new InvalidRangeError(
        `range starts at ${offset}, past the end of '${rel}' (${size} bytes)`,
      );
    const end =
      opts.range?.length === undefined ? size : Math.min(size, offset + opts.range.length);
    if (end <= offset) return Readable.from([]);
    const contentUrl = `${drivePrefix(item.parentReference?.driveId ?? this.options.driveId)}/items/${encodeURIComponent(item.id)}/content`;
    const open = (start: number, stop: number): Promise<OpenedBody> =>
      this.client.call(
        'onedrive.download',
        rel,
        async () => {
          const req = this.client.raw(this.client.api(contentUrl, opts.signal));
          // The SDK's RedirectHandler follows the 302 to the pre-authenticated URL, drops the
          // Authorization header on the other host and keeps Range.
          if (start > 0 || stop < size) req.header('Range', `bytes=${start}-${stop - 1}`);
          const res = (await req.get()) as Response;
          await throwIfFailed(res, rel);
          if (start > 0 || stop < size) {
            const cr = res.headers.get('content-range');
            if (res.status !== 206 || !cr?.startsWith(`bytes ${start}-`)) {
              await res.body?.cancel().catch(() => undefined);
              throw new FatalError(
                `'${rel}': the server ignored the Range request (status ${res.status})`,
              );
            }
          }
          if (!res.body) throw new TransientError(`'${rel}': the download has no body`);
          return { reader: res.body.getReader(), etag: res.headers.get('etag') ?? undefined };
        },
        opts.signal,
      );
    return new ResumableDownload({ open, start: offset, end, what: rel, signal: opts.signal });
  }

  // ---------------------------------------------------------------- write side

  async write(path: ConnectorPath, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    try {
      await this.ensureFolder(parentPath(rel), meta);
      return await this.writer.upload(rel, body, meta);
    } catch (e) {
      if (e instanceof AlreadyExistsError) {
        const existing = await this.stat(rel, meta).catch(() => undefined);
        if (existing?.kind === 'folder')
          throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`, {
            cause: e,
          });
      }
      if (e instanceof NotFoundError) this.knownFolders.clear();
      throw e;
    } finally {
      if (!body.destroyed) body.destroy();
    }
  }

  async mkdir(path: ConnectorPath, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    await this.ensureFolder(rel, opts);
    return this.stat(rel, opts);
  }

  async remove(path: ConnectorPath, opts: CallOptions = {}): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    await this.client.call(
      'onedrive.delete',
      rel,
      () =>
        this.client
          .api(itemPathAddress(this.options.driveId, rel), opts.signal)
          .delete() as Promise<unknown>,
      opts.signal,
    );
    for (const k of [...this.knownFolders.keys()])
      if (relativeTo(rel, k) !== undefined) this.knownFolders.delete(k);
  }

  async close(): Promise<void> {
    this.knownFolders.clear();
  }

  // ---------------------------------------------------------------- copy

  async copy(from: ConnectorPath, to: ConnectorPath, opts: CallOptions = {}): Promise<Entry> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    if (dst === '') throw new InvalidPathError('cannot copy over the root folder');
    const source = await this.getItem(src, opts);
    const parentId = await this.ensureFolder(parentPath(dst), opts);
    const driveId = await this.driveId(opts);
    const res = await this.client.call(
      'onedrive.copy',
      src,
      async () => {
        const r = (await this.client
          .raw(
            this.client.api(
              `${drivePrefix(source.parentReference?.driveId ?? this.options.driveId)}/items/${encodeURIComponent(source.id)}/copy?@microsoft.graph.conflictBehavior=replace`,
              opts.signal,
            ),
          )
          .post({
            parentReference: { driveId, id: parentId },
            name: encodeName(baseName(dst)),
          })) as Response;
        await throwIfFailed(r, src);
        return r;
      },
      opts.signal,
    );
    const monitor = res.headers.get('location');
    await res.body?.cancel().catch(() => undefined);
    if (!monitor) throw new FatalError(`'${src}': copy accepted without a monitor URL`);
    const started = this.clock.now().getTime();
    for (let attempt = 0; ; attempt++) {
      // The monitor URL is pre-authenticated (no bearer: it is not a Graph host).
      const status = await this.client.call(
        'onedrive.copyMonitor',
        src,
        async () => {
          const r = (await this.client
            .raw(this.client.api(monitor, opts.signal))
            .get()) as Response;
          await throwIfFailed(r, src);
          return (await r.json()) as CopyMonitorStatus;
        },
        opts.signal,
      );
      if (status.status === 'completed') break;
      if (status.status === 'failed') {
        const code = status.error?.code ?? 'unknown';
        const msg =
          `copy of '${src}' to '${dst}' failed: ${code} ${status.error?.message ?? ''}`.trim();
        if (code === 'nameAlreadyExists') throw new AlreadyExistsError(msg, { providerCode: code });
        if (code === 'quotaLimitReached') throw new QuotaExceededError(msg, { providerCode: code });
        throw new FatalError(msg, { providerCode: code });
      }
      if (this.clock.now().getTime() - started > COPY_TIMEOUT_MS) {
        throw new TransientError(
          `copy of '${src}' is still running after ${COPY_TIMEOUT_MS / 60_000} minutes`,
        );
      }
      await this.clock.sleep(Math.min(COPY_POLL_MAX_MS, 50 * 2 ** attempt), opts.signal);
    }
    return this.stat(dst, opts);
  }

  // ---------------------------------------------------------------- change feed

  async currentCursor(_dir: ConnectorPath, opts: CallOptions = {}): Promise<string> {
    const page = await this.client.call(
      'onedrive.delta',
      '',
      () =>
        this.client
          .api(`${drivePrefix(this.options.driveId)}/root/delta?token=latest`, opts.signal)
          .get() as Promise<GraphCollection<GraphDriveItem>>,
      opts.signal,
    );
    const link = page['@odata.deltaLink'];
    if (!link) throw new FatalError('delta?token=latest returned no deltaLink');
    return link;
  }

  /**
   * One page of `delta` (drive-wide: Business and SharePoint only have it on the root), filtered
   * to `dir`. Paths are rebuilt from parent ids (delta has no parentReference.path): first from
   * items on the same page, then by looking the parent up. A deleted item whose parent chain cannot
   * be resolved any more (its parent was deleted on an earlier page) is left out: the engine
   * learns of it through the deletion of that parent.
   */
  async changes(dir: ConnectorPath, cursor: string, opts: CallOptions = {}): Promise<ChangePage> {
    const scope = normalizePath(dir);
    if (!/^https:\/\//.test(cursor)) throw new CursorExpiredError('not a OneDrive delta cursor');
    const page = await this.client.call(
      'onedrive.delta',
      scope,
      () => this.client.api(cursor, opts.signal).get() as Promise<GraphCollection<GraphDriveItem>>,
      opts.signal,
    );
    const onPage = new Map(page.value.map((i) => [i.id, i]));
    const resolved = new Map<string, string | null>();
    const resolve = async (id: string | undefined, depth = 0): Promise<string | undefined> => {
      if (id === undefined || depth > 64) return undefined;
      if (this.rootId === undefined) await this.loadRootId(opts);
      if (id === this.rootId) return '';
      const known = resolved.get(id);
      if (known !== undefined) return known ?? undefined;
      let item = onPage.get(id);
      if (!item || item.name === undefined) {
        item = await this.client
          .call(
            'onedrive.item',
            id,
            () =>
              this.client
                .api(
                  `${drivePrefix(this.options.driveId)}/items/${encodeURIComponent(id)}?$select=id,name,parentReference,root`,
                  opts.signal,
                )
                .get() as Promise<GraphDriveItem>,
            opts.signal,
          )
          .catch((e: unknown) => {
            if (e instanceof NotFoundError) return undefined;
            throw e;
          });
      }
      let path: string | undefined;
      if (item?.root !== undefined) path = '';
      else if (item?.name !== undefined) {
        const parent = await resolve(item.parentReference?.id, depth + 1);
        path = parent === undefined ? undefined : joinRel(parent, decodeName(item.name));
      }
      resolved.set(id, path ?? null);
      return path;
    };
    const changes: Change[] = [];
    for (const item of page.value) {
      if (item.root !== undefined) {
        this.rootId = item.id;
        continue;
      }
      const path = await resolve(item.id);
      if (path === undefined || path === '') continue;
      if (relativeTo(scope, path) === undefined) continue;
      if (item.deleted !== undefined) changes.push({ type: 'delete', path, id: item.id });
      else changes.push({ type: 'upsert', entry: toEntry(item, path) });
    }
    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    if (!next && !delta) throw new FatalError('delta page without nextLink or deltaLink');
    return { changes, cursor: next ?? delta!, hasMore: next !== undefined };
  }

  // ---------------------------------------------------------------- helpers

  private async getItem(rel: ConnectorPath, opts: CallOptions): Promise<GraphDriveItem> {
    return this.client.call(
      'onedrive.stat',
      rel,
      () =>
        this.client
          .api(`${itemPathAddress(this.options.driveId, rel)}?$select=${ITEM_SELECT}`, opts.signal)
          .get() as Promise<GraphDriveItem>,
      opts.signal,
    );
  }

  private async loadRootId(opts: CallOptions): Promise<void> {
    this.rootId = (await this.getItem('', opts)).id;
  }

  private async driveId(opts: CallOptions): Promise<string> {
    if (this.options.driveId) return this.options.driveId;
    this.driveIdCache ??= (
      await this.client.call(
        'onedrive.drive',
        '',
        () => this.client.api('/me/drive?$select=id', opts.signal).get() as Promise<{ id: string }>,
        opts.signal,
      )
    ).id;
    return this.driveIdCache;
  }

  /**
   * Makes sure `rel` is a folder, creating it and its missing parents (POST children with
   * conflictBehavior=fail; 409 means someone made it first, which is fine). Returns its item id.
   */
  private async ensureFolder(rel: ConnectorPath, opts: CallOptions): Promise<string> {
    const cached = this.knownFolders.get(rel);
    if (cached) return cached;
    let id: string;
    try {
      const item = await this.getItem(rel, opts);
      if (!isFolderItem(item)) throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
      id = item.id;
    } catch (e) {
      if (!(e instanceof NotFoundError) || rel === '') throw e;
      const parentId = await this.ensureFolder(parentPath(rel), opts);
      id = await this.createFolder(rel, parentId, opts);
    }
    if (this.knownFolders.size >= FOLDER_CACHE_MAX) this.knownFolders.clear();
    this.knownFolders.set(rel, id);
    return id;
  }

  private async createFolder(
    rel: ConnectorPath,
    parentId: string,
    opts: CallOptions,
  ): Promise<string> {
    try {
      const created = await this.client.call(
        'onedrive.mkdir',
        rel,
        () =>
          this.client
            .api(
              `${drivePrefix(this.options.driveId)}/items/${encodeURIComponent(parentId)}/children`,
              opts.signal,
            )
            .post({
              name: encodeName(baseName(rel)),
              folder: {},
              '@microsoft.graph.conflictBehavior': 'fail',
            }) as Promise<GraphDriveItem>,
        opts.signal,
      );
      return created.id;
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const item = await this.getItem(rel, opts);
      if (!isFolderItem(item))
        throw new NotADirectoryError(`cannot create folder '${rel}': a file is in the way`, {
          cause: e,
        });
      return item.id;
    }
  }
}

function joinRel(parent: ConnectorPath, name: string): ConnectorPath {
  return parent === '' ? name : `${parent}/${name}`;
}
