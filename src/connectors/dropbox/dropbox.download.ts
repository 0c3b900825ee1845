import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { IntegrityError } from '../connector.errors.js';
import {
  resumableDownload as sharedResumableDownload,
  type OpenedBody,
} from '../resumable-download.js';
import { mapDropboxError } from './dropbox.errors.js';

export type { OpenedBody };

/** A download's answer: status and headers, and the body as Node's own stream. */
export interface DownloadAnswer {
  status: number;
  headers: Headers;
  body: IncomingMessage;
}

/**
 * POSTs a download request through Node's http client (not fetch) and resolves with the answer
 * once its headers arrived; the body is left unread. fetch (undici) hands a body over as a web
 * stream: each chunk copied out of the parser into a fresh ArrayBuffer, joined again by
 * `Readable.fromWeb`, and a few promises per chunk. Measured on 1 GiB from a local server, 2
 * bodies at a time: 1.5-2.1 s of user CPU that way, 1.1 s here (docs/benchmarks.md, "Where a
 * large file's CPU goes"); every byte of a Dropbox source goes through this. The node http
 * client hands on the socket's own buffers. Keep-alive connections come from Node's global
 * agents (as fetch's come from its global dispatcher). An AbortSignal destroys the request.
 */
export function requestDownload(
  url: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<DownloadAnswer> {
  return new Promise<DownloadAnswer>((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers, signal }, (res) => {
      const h = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) h.append(name, v);
      }
      resolve({ status: res.statusCode ?? 0, headers: h, body: res });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The whole body of a (short) error answer, as text. */
export async function readText(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(parts).toString('utf8');
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
  res: { status: number; headers: Headers },
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
