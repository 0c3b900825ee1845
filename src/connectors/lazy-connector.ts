import type { Readable } from 'node:stream';
import type { Capabilities } from './capabilities.js';
import type { CallOptions, Connector, Entry, ReadOptions, WriteMeta } from './connector.js';

/**
 * A connector whose implementation (and the SDK under it) is imported on its first call.
 *
 * The engine lists every connector kind at start-up, but most installations use two or three:
 * importing @aws-sdk/client-s3, webdav and ssh2 up front cost ~20 MiB of resident memory for
 * nothing, out of a 200 MiB budget. A descriptor validates its settings synchronously (bad
 * settings still fail at `create`) and hands this wrapper a loader that imports the real factory.
 *
 * Only for connectors without the optional interfaces (ChangeFeed, ServerSideCopier): the engine
 * detects those by the methods present, which a wrapper could not know before loading.
 */
export class LazyConnector implements Connector {
  private loading?: Promise<Connector>;

  constructor(
    readonly kind: string,
    readonly capabilities: Capabilities,
    private readonly load: () => Promise<Connector>,
  ) {}

  private connector(): Promise<Connector> {
    if (!this.loading) {
      this.loading = this.load();
      // A failed import is not cached: the next call tries again.
      this.loading.catch(() => (this.loading = undefined));
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
