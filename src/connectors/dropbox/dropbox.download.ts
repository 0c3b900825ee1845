import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntegrityError } from '../connector.errors.js';
import {
  resumableDownload as sharedResumableDownload,
  type OpenedBody,
} from '../resumable-download.js';
import { mapDropboxError } from './dropbox.errors.js';

export type { OpenedBody };

export function webBodyToNode(body: ReadableStream<Uint8Array> | null): Readable {
  return body
    ? Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>)
    : Readable.from([]);
}

/** The shared resuming reader, with Dropbox's error mapping. */
export function resumableDownload(
  first: OpenedBody,
  reopen: (position: number) => Promise<OpenedBody>,
  opts: { what: string; maxResumes: number; signal?: AbortSignal },
): Readable {
  return sharedResumableDownload(first, reopen, {
    ...opts,
    mapError: (e) => mapDropboxError(e, opts.what, 'read'),
  });
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
