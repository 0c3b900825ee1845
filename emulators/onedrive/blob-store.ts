import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuickXor } from './quickxor.js';

/** Immutable stored content: a file under the store's temp dir plus the hashes Graph reports. */
export interface Blob {
  readonly id: string;
  readonly path: string;
  readonly size: number;
  readonly quickXorHash: string;
  readonly sha256Hash: string;
}

/**
 * Appends bytes to a new blob and hashes them as they arrive. Used by simple PUTs (streamed) and
 * upload sessions (one fragment at a time, in order).
 */
export class BlobWriter {
  private readonly qx = new QuickXor();
  private readonly sha: Hash = createHash('sha256');
  private written = 0;
  private closed = false;

  constructor(
    readonly id: string,
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  get size(): number {
    return this.written;
  }

  async append(chunk: Buffer): Promise<void> {
    if (this.closed) throw new Error('blob writer is closed');
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(
        chunk,
        done,
        chunk.length - done,
        this.written + done,
      );
      done += bytesWritten;
    }
    this.qx.update(chunk);
    this.sha.update(chunk);
    this.written += chunk.length;
  }

  async finish(): Promise<Blob> {
    this.closed = true;
    await this.fh.close();
    return {
      id: this.id,
      path: this.path,
      size: this.written,
      quickXorHash: this.qx.digest(),
      sha256Hash: this.sha.digest('hex').toUpperCase(),
    };
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.path, { force: true });
  }
}

/** File-backed content store under os.tmpdir(): GiB-sized files never sit in memory. */
export class BlobStore {
  private constructor(private readonly dir: string) {}

  static async create(): Promise<BlobStore> {
    return new BlobStore(await mkdtemp(join(tmpdir(), 'cbe-onedrive-emu-')));
  }

  async writer(): Promise<BlobWriter> {
    const id = randomBytes(12).toString('hex');
    const path = join(this.dir, id);
    return new BlobWriter(id, path, await open(path, 'wx'));
  }

  async fromBuffer(data: Buffer): Promise<Blob> {
    const w = await this.writer();
    await w.append(data);
    return w.finish();
  }

  /** Bytes [start, endExclusive) of a blob. */
  read(blob: Blob, start: number, endExclusive: number): ReadStream | undefined {
    if (endExclusive <= start) return undefined;
    return createReadStream(blob.path, { start, end: endExclusive - 1, highWaterMark: 256 * 1024 });
  }

  /** Blobs are shared by copies and never rewritten; files are removed with the store. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
