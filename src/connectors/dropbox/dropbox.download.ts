import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  ConnectorError,
  IntegrityError,
  isAbortError,
  TransientError,
} from '../connector.errors.js';
import { mapDropboxError } from './dropbox.errors.js';

/** One open download body and the byte span [start, end) it covers. */
export interface OpenedBody {
  body: Readable;
  start: number;
  end: number;
}

export function webBodyToNode(body: ReadableStream<Uint8Array> | null): Readable {
  return body
    ? Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>)
    : Readable.from([]);
}

/**
 * Joins a download and its resumptions into one stream: it counts the bytes it passes on and,
 * when the connection breaks mid-body (or the body ends short), reopens at that byte with a Range
 * request. The consumer sees one unbroken stream, or an error; never an early end.
 */
export function resumableDownload(
  first: OpenedBody,
  reopen: (position: number) => Promise<OpenedBody>,
  opts: { what: string; maxResumes: number; signal?: AbortSignal },
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
              throw new IntegrityError(
                `Dropbox sent more bytes of '${opts.what}' than announced (${end})`,
              );
            yield chunk;
          }
          if (pos === end) return;
          throw new TransientError(`download of '${opts.what}' ended at byte ${pos} of ${end}`);
        } catch (e) {
          cur.body.destroy();
          if (opts.signal?.aborted || isAbortError(e)) throw e;
          const mapped = mapDropboxError(e, opts.what, 'read');
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

/** The [start, end) span of a 200/206 answer, from Content-Range or Content-Length. */
export function spanOf(
  res: Response,
  requestedStart: number,
  fallbackSize: number,
): { start: number; end: number } {
  const cr = res.headers.get('content-range');
  const m = cr ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr) : null;
  if (m) return { start: Number(m[1]), end: Number(m[2]) + 1 };
  const len = res.headers.get('content-length');
  if (res.status === 206) {
    throw new IntegrityError('Dropbox answered 206 without a Content-Range header');
  }
  if (requestedStart > 0) throw new IntegrityError('Dropbox ignored the Range of a download');
  return { start: 0, end: len !== null ? Number(len) : fallbackSize };
}
