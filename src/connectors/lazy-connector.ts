import type { Readable } from 'node:stream';
import type { Capabilities } from './capabilities.js';
import type {
  CallOptions,
  ChangeFeed,
  ChangePage,
  Connector,
  ConnectorPath,
  Entry,
  ReadOptions,
  ServerSideCopier,
  UploadSessionDiscarder,
  WriteMeta,
} from './connector.js';
import { FatalError } from './connector.errors.js';

/**
 * A connector whose implementation (and the SDK under it) is imported on its first call.
 *
 * The engine lists every connector kind at start-up, but most installations use two or three:
 * importing @aws-sdk/client-s3, webdav and ssh2 up front cost ~20 MiB of resident memory for
 * nothing, out of a 200 MiB budget; googleapis, the Microsoft Graph client and the Dropbox SDK
 * held another 3 MiB of live heap, which the engine's heap grows to 1.75 times between full
 * collections during a run (--heap-growing-percent, src/engine-flags.ts). A descriptor
 * validates its settings synchronously (bad settings still fail at `create`) and hands this
 * wrapper a loader that imports the real factory.
 *
 * The engine detects the optional interfaces by the methods present, which a wrapper cannot
 * learn before loading: this class has none of them; LazyCloudConnector has those every cloud
 * drive kind implements (ChangeFeed, ServerSideCopier), LazyUploadSessionConnector S3's
 * UploadSessionDiscarder.
 */
export class LazyConnector<C extends Connector = Connector> implements Connector {
  private loading?: Promise<C>;

  constructor(
    readonly kind: string,
    readonly capabilities: Capabilities,
    private readonly load: () => Promise<C>,
  ) {}

  protected connector(): Promise<C> {
    if (!this.loading) {
      this.loading = this.load().catch((e: unknown) => {
        // A failed import is not cached: the next call tries again.
        this.loading = undefined;
        throw unloadable(this.kind, e);
      });
    }
    return this.loading;
  }

  async *list(dir: string, opts?: CallOptions): AsyncIterable<Entry> {
    yield* (await this.connector()).list(dir, opts);
  }

  async stat(path: string, opts?: CallOptions): Promise<Entry> {
    return (await this.connector()).stat(path, opts);
  }

  async read(path: string, opts?: ReadOptions): Promise<Readable> {
    return (await this.connector()).read(path, opts);
  }

  async write(path: string, body: Readable, meta?: WriteMeta): Promise<Entry> {
    return (await this.connector()).write(path, body, meta);
  }

  async mkdir(path: string, opts?: CallOptions): Promise<Entry> {
    return (await this.connector()).mkdir(path, opts);
  }

  async remove(path: string, opts?: CallOptions): Promise<void> {
    return (await this.connector()).remove(path, opts);
  }

  /** Never loaded, nothing to release. */
  async close(): Promise<void> {
    if (!this.loading) return;
    const c = await this.loading.catch(() => undefined);
    await c?.close?.();
  }
}

/** A LazyConnector for a kind that always has a change feed and server-side copy. */
export class LazyCloudConnector
  extends LazyConnector<Connector & ChangeFeed & ServerSideCopier>
  implements ChangeFeed, ServerSideCopier
{
  async currentCursor(dir: ConnectorPath, opts?: CallOptions): Promise<string> {
    return (await this.connector()).currentCursor(dir, opts);
  }

  async changes(dir: ConnectorPath, cursor: string, opts?: CallOptions): Promise<ChangePage> {
    return (await this.connector()).changes(dir, cursor, opts);
  }

  async copy(from: ConnectorPath, to: ConnectorPath, opts?: CallOptions): Promise<Entry> {
    return (await this.connector()).copy(from, to, opts);
  }
}

/**
 * A LazyConnector for a kind whose unfinished uploads the engine discards (S3: an aborted
 * multipart upload, billed for its parts until then).
 */
export class LazyUploadSessionConnector
  extends LazyConnector<Connector & UploadSessionDiscarder>
  implements UploadSessionDiscarder
{
  async discardUploadSession(locator: string, opts?: CallOptions): Promise<void> {
    return (await this.connector()).discardUploadSession(locator, opts);
  }
}

/**
 * The package under a connector is missing (a partial install, a package pruned as unused): the
 * run fails with a message naming it instead of retrying. Other failures pass unchanged.
 */
function unloadable(kind: string, e: unknown): unknown {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FatalError(
    `${kind}: the connector's library could not be loaded (${message}); reinstall the engine's dependencies (npm ci)`,
    { cause: e },
  );
}
