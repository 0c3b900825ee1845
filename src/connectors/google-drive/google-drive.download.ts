import { Readable } from 'node:stream';
import { isAbortError, TransientError } from '../connector.errors.js';

export interface ResumingDownloadOptions {
  /** Opens the byte range [from, end) and returns its body stream. Retries are the opener's job. */
  open(from: number): Promise<Readable>;
  start: number;
  /** Exclusive end. */
  end: number;
  /** Reopens allowed in a row without progress before giving up. */
  maxReopens?: number;
  signal?: AbortSignal;
}

/**
 * One unbroken stream over [start, end): when the body breaks (or ends short) mid-way, the range
 * is reopened at the byte where it stopped, so the consumer never sees the break. A stream that
 * cannot be completed errors; it never ends early.
 */
export function resumingDownload(o: ResumingDownloadOptions): Readable {
  const maxReopens = o.maxReopens ?? 5;
  async function* bytes(): AsyncGenerator<Buffer> {
    let pos = o.start;
    let failures = 0;
    let lastError: unknown;
    while (pos < o.end) {
      if (failures > maxReopens) {
        throw new TransientError(
          `google-drive: download broke ${failures} times at byte ${pos} of ${o.end}; giving up`,
          { cause: lastError },
        );
      }
      o.signal?.throwIfAborted();
      const body = await o.open(pos);
      const before = pos;
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          const room = o.end - pos;
          const out = buf.length > room ? buf.subarray(0, room) : buf;
          pos += out.length;
          yield out;
          if (pos >= o.end) break;
        }
      } catch (e) {
        // Only the connection can fail while reading a body: reopen where it stopped.
        if (isAbortError(e) || o.signal?.aborted) throw e;
        lastError = e;
      } finally {
        body.destroy();
      }
      failures = pos > before ? 1 : failures + 1;
      if (pos >= o.end) return;
      lastError ??= new Error('body ended before the requested range was complete');
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
