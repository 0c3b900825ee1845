import { Readable } from 'node:stream';
import {
  ConnectorError,
  IntegrityError,
  isAbortError,
  TransientError,
} from './connector.errors.js';

/** An open body and the byte span [start, end) it covers. */
export interface OpenedBody {
  body: Readable;
  start: number;
  end: number;
}

/**
 * Joins a download and its resumptions into one stream: it counts the bytes it passes on and,
 * when the connection breaks mid-body (or the body ends short), reopens at that byte with a
 * ranged request. The consumer sees one unbroken stream, or an error; never an early end.
 */
export function resumableDownload(
  first: OpenedBody,
  reopen: (position: number) => Promise<OpenedBody>,
  opts: { what: string; maxResumes: number; mapError: (e: unknown) => Error; signal?: AbortSignal },
): Readable {
  async function* run(): AsyncGenerator<Buffer> {
    let cur = first;
    let pos = first.start;
    const end = first.end;
    let resumes = 0;
    try {
      for (;;) {
        try {
          for await (const raw of cur.body) {
            const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
            pos += chunk.length;
            if (pos > end)
              throw new IntegrityError(`server sent more bytes of '${opts.what}' than announced`);
            yield chunk;
          }
          if (pos === end) return;
          throw new TransientError(`download of '${opts.what}' ended at byte ${pos} of ${end}`);
        } catch (e) {
          cur.body.destroy();
          if (opts.signal?.aborted || isAbortError(e)) throw e;
          const mapped = opts.mapError(e);
          if (
            !(mapped instanceof ConnectorError) ||
            !mapped.retryable ||
            resumes >= opts.maxResumes
          )
            throw mapped;
          resumes += 1;
          cur = await reopen(pos);
          if (cur.start !== pos || cur.end !== end) {
            cur.body.destroy();
            throw new IntegrityError(
              `resumed download of '${opts.what}' covers ${cur.start}-${cur.end}, expected ${pos}-${end}`,
            );
          }
        }
      }
    } finally {
      cur.body.destroy();
    }
  }
  return Readable.from(run(), { objectMode: false });
}
