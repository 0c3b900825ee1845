import { Readable, Transform } from 'node:stream';
import type {
  CallOptions,
  Connector,
  Entry,
  ReadOptions,
  WriteMeta,
} from '../../src/connectors/connector.js';
import type { HashSet } from '../../src/connectors/hashing/hash-kinds.js';

export type Fault = (
  op: 'list' | 'stat' | 'read' | 'write' | 'remove' | 'mkdir',
  path: string,
) => Error | 'cut' | 'truncate' | 'corrupt' | { delayMs: number } | undefined;

/**
 * Wraps a connector and injects faults chosen by a callback: a thrown error, a read stream cut
 * (errors) or truncated (ends early) half-way, or bytes corrupted on the way to the target.
 */
export class FaultyConnector implements Connector {
  readonly kind: string;
  readonly capabilities: Connector['capabilities'];

  constructor(
    private readonly inner: Connector,
    private readonly fault: Fault,
    capabilities?: Partial<Connector['capabilities']>,
    /** Hashes to report for a path in list/stat instead of the real ones (a source that lies). */
    private readonly reportedHashes?: (path: string) => HashSet | undefined,
  ) {
    this.kind = inner.kind;
    this.capabilities = { ...inner.capabilities, ...capabilities };
  }

  async *list(dir: string, opts?: CallOptions): AsyncIterable<Entry> {
    this.maybeThrow('list', dir);
    for await (const e of this.inner.list(dir, opts)) yield this.withHashes(e);
  }

  async stat(path: string, opts?: CallOptions): Promise<Entry> {
    this.maybeThrow('stat', path);
    return this.withHashes(await this.inner.stat(path, opts));
  }

  private withHashes(e: Entry): Entry {
    const hashes = e.kind === 'file' ? this.reportedHashes?.(e.path) : undefined;
    return hashes ? { ...e, hashes } : e;
  }

  async read(path: string, opts?: ReadOptions): Promise<Readable> {
    const f = this.fault('read', path);
    if (f instanceof Error) throw f;
    if (f !== undefined && typeof f === 'object')
      await new Promise((r) => setTimeout(r, f.delayMs));
    const stream = await this.inner.read(path, opts);
    if (f === 'cut' || f === 'truncate') {
      let seen = 0;
      const entry = await this.inner.stat(path);
      const half = Math.floor((entry.size ?? 0) / 2);
      const t = new Transform({
        transform(chunk: Buffer, _e, cb) {
          const room = half - seen;
          seen += chunk.length;
          if (room <= 0) return cb();
          if (chunk.length < room) return cb(null, chunk);
          this.push(chunk.subarray(0, room));
          if (f === 'cut')
            return cb(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
          this.push(null);
          stream.destroy();
          return cb();
        },
      });
      return stream.pipe(t);
    }
    return stream;
  }

  async write(path: string, body: Readable, meta?: WriteMeta): Promise<Entry> {
    const f = this.fault('write', path);
    if (f instanceof Error) {
      body.resume();
      throw f;
    }
    if (f === 'corrupt') {
      const flip = new Transform({
        transform(chunk: Buffer, _e, cb) {
          const copy = Buffer.from(chunk);
          if (copy.length > 0) copy[0] = copy[0]! ^ 0xff;
          cb(null, copy);
        },
      });
      const stored = await this.inner.write(path, body.pipe(flip), meta);
      // Report what was really stored, as a provider computing its own hash would.
      const { createHash } = await import('node:crypto');
      const h = createHash('sha256');
      for await (const c of await this.inner.read(path)) h.update(c as Buffer);
      return { ...stored, hashes: { sha256: h.digest('hex') } };
    }
    return this.inner.write(path, body, meta);
  }

  mkdir(path: string, opts?: CallOptions): Promise<Entry> {
    this.maybeThrow('mkdir', path);
    return this.inner.mkdir(path, opts);
  }

  remove(path: string, opts?: CallOptions): Promise<void> {
    this.maybeThrow('remove', path);
    return this.inner.remove(path, opts);
  }

  private maybeThrow(op: Parameters<Fault>[0], path: string): void {
    const f = this.fault(op, path);
    if (f instanceof Error) throw f;
  }
}
