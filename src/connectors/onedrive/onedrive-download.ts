import { Readable } from 'node:stream';
import {
  IntegrityError,
  isAbortError,
  isRetryable,
  isTransientNetworkError,
  TransientError,
} from '../connector.errors.js';

export interface OpenedBody {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Validator of the content version, when the server sent one. */
  etag?: string;
}

export interface ResumableDownloadOptions {
  /** Opens bytes [start, end) (already paced and mapped). */
  open(start: number, end: number): Promise<OpenedBody>;
  start: number;
  end: number;
  what: string;
  /** Breaks in a row without a single new byte before giving up. */
  maxStalledResumes?: number;
  signal?: AbortSignal;
}

/**
 * One unbroken stream over a download that may break mid-body: it counts the bytes delivered and,
 * when the connection is cut (or ends short), reopens with `Range: bytes=<next>-` and carries on.
 * The consumer never sees the seam. If the content changed between two requests (ETag differs) it
 * errors with IntegrityError; when it cannot complete it errors, never ends early.
 */
export class ResumableDownload extends Readable {
  private reader?: ReadableStreamDefaultReader<Uint8Array>;
  private etag?: string;
  private pos: number;
  private pumping = false;
  private stalled = 0;

  constructor(private readonly o: ResumableDownloadOptions) {
    super({ highWaterMark: 256 * 1024, signal: o.signal });
    this.pos = o.start;
  }

  get position(): number {
    return this.pos;
  }

  override _read(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const r = this.reader;
    this.reader = undefined;
    if (r) r.cancel().catch(() => undefined);
    cb(err);
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.destroyed) return;
        if (!this.reader) {
          const opened = await this.o.open(this.pos, this.o.end);
          if (this.etag !== undefined && opened.etag !== undefined && opened.etag !== this.etag) {
            await opened.reader.cancel().catch(() => undefined);
            throw new IntegrityError(
              `'${this.o.what}' changed while it was being read (at byte ${this.pos})`,
            );
          }
          this.etag ??= opened.etag;
          this.reader = opened.reader;
        }
        let chunk: Uint8Array | undefined;
        try {
          const r = await this.reader.read();
          if (r.done) {
            if (this.pos >= this.o.end) {
              this.pumping = false;
              this.push(null);
              return;
            }
            throw new TransientError(
              `'${this.o.what}': the download ended at byte ${this.pos} of ${this.o.end}`,
            );
          }
          chunk = r.value;
        } catch (e) {
          if (isAbortError(e) || this.destroyed) throw e;
          const retryable = isRetryable(e) || isTransientNetworkError(e) || e instanceof TypeError;
          this.reader = undefined;
          if (!retryable || ++this.stalled > (this.o.maxStalledResumes ?? 5)) {
            throw new TransientError(
              `'${this.o.what}': the download broke at byte ${this.pos}: ${(e as Error).message}`,
              { cause: e },
            );
          }
          continue; // reopen at this.pos
        }
        let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (this.pos + buf.length > this.o.end) buf = buf.subarray(0, this.o.end - this.pos);
        if (buf.length === 0) continue;
        this.pos += buf.length;
        this.stalled = 0;
        if (!this.push(buf)) {
          this.pumping = false;
          return;
        }
      }
    } catch (e) {
      this.pumping = false;
      this.destroy(e as Error);
    }
  }
}
