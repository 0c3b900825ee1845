import type { Readable } from 'node:stream';
import type { UploadSessionHooks } from '../connector.js';
import type { drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import {
  FatalError,
  IntegrityError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';
import type { GoogleDriveClient } from './google-drive.client.js';
import { headerOf, httpStatusOf, quotaMessage } from './google-drive.errors.js';
import { FILE_FIELDS } from './google-drive.mapper.js';
import { DEFAULT_API_BASE_URL } from './google-drive.options.js';

export interface ResumableUploadParams {
  client: GoogleDriveClient;
  /** New file (POST) or new content for an existing id (PATCH). */
  fileId?: string;
  metadata: drive_v3.Schema$File;
  body: Readable;
  size?: number;
  chunkSize: number;
  what: string;
  signal?: AbortSignal;
  /** Reports the session and what it confirmed; continues one an earlier attempt left. */
  session?: UploadSessionHooks;
}

const acceptResumable = (s: number) => (s >= 200 && s < 300) || s === 308;

/**
 * Reads a stream in chunks of exactly `size` bytes, peeking one piece ahead so it knows whether
 * a chunk is the last one (needed for streams of unknown length). Holds at most one chunk plus
 * one source piece.
 */
export class ChunkReader {
  private readonly it: AsyncIterator<unknown>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  constructor(
    body: Readable,
    private readonly size: number,
  ) {
    this.it = body[Symbol.asyncIterator]();
  }

  async next(): Promise<{ data: Buffer; isLast: boolean }> {
    while (!this.ended && this.pendingBytes <= this.size) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (b.length > 0) {
        this.pending.push(b);
        this.pendingBytes += b.length;
      }
    }
    const all =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    if (this.ended && all.length <= this.size) {
      this.pending = [];
      this.pendingBytes = 0;
      return { data: all, isLast: true };
    }
    const rest = all.subarray(this.size);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    return { data: all.subarray(0, this.size), isLast: false };
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** `Range: bytes=0-N` of a 308 -> bytes persisted (N + 1); no header: nothing persisted. */
export function persistedBytes(range: string | undefined): number {
  if (!range) return 0;
  const m = /bytes=0-(\d+)/.exec(range);
  if (!m)
    throw new IntegrityError(`google-drive: unexpected Range header in a 308 answer: ${range}`);
  return Number(m[1]) + 1;
}

/**
 * Google's resumable protocol by hand (googleapis has none: google-api-nodejs-client #276,
 * #3426). Chunks are multiples of 256 KiB; after a failed chunk the session is asked how much it
 * kept (`bytes *\/total`) and the upload continues from there, out of the chunk held in memory.
 * Only a dead session (404/410) while still in the first chunk restarts from byte 0; later it
 * fails as transient so the engine retries the whole file with a fresh source stream.
 */
export async function uploadResumable(p: ResumableUploadParams): Promise<drive_v3.Schema$File> {
  const reader = new ChunkReader(p.body, p.chunkSize);
  try {
    // A session an earlier attempt left: the bytes the server holds are read from the body (for
    // the hashes) but not sent again.
    const status = p.session?.resume ? await sessionStatus(p, p.session.resume) : undefined;
    if (status && 'file' in status) {
      // Every byte had arrived before the stop: the session completed on the status query.
      while (!(await reader.next()).isLast);
      return status.file;
    }
    let session = status ? p.session!.resume! : await startSession(p);
    const resumeAt = status?.held ?? 0;
    p.session?.onConfirmed(session, resumeAt);
    let offset = 0;
    for (;;) {
      const { data, isLast } = await reader.next();
      if (p.size !== undefined && offset + data.length > p.size) {
        throw new IntegrityError(
          `google-drive: the source of ${p.what} yielded more than the ${p.size} bytes declared`,
        );
      }
      if (isLast && p.size !== undefined && offset + data.length !== p.size) {
        throw new IntegrityError(
          `google-drive: the source of ${p.what} ended after ${offset + data.length} of ${p.size} bytes`,
        );
      }
      const total = isLast ? offset + data.length : p.size;
      if (!isLast && offset + data.length <= resumeAt) {
        offset += data.length; // the server holds this chunk already
        continue;
      }
      let file: drive_v3.Schema$File | undefined;
      try {
        file = await sendChunk(p, session, data, offset, total, isLast, Math.max(offset, resumeAt));
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        if (offset > 0) {
          throw new TransientError(
            `google-drive: the upload session of ${p.what} expired after ${offset} bytes; the file must be sent again`,
            { cause: e },
          );
        }
        session = await startSession(p); // nothing acknowledged yet: the chunk in memory is all we need
        p.session?.onConfirmed(session, 0);
        file = await sendChunk(p, session, data, 0, total, isLast, 0);
      }
      if (file) return file;
      if (isLast)
        throw new IntegrityError(
          `google-drive: the server did not complete ${p.what} after the last chunk`,
        );
      offset += data.length;
      p.session?.onConfirmed(session, offset);
    }
  } catch (e) {
    p.body.destroy();
    await reader.close().catch(() => undefined);
    if (e instanceof RateLimitedError && e.providerCode === 'userRateLimitExceeded') {
      // Still refused after the pacer's whole backoff: the daily upload cap, not a burst.
      throw new QuotaExceededError(quotaMessage('userRateLimitExceeded', p.what), {
        cause: e,
        providerCode: e.providerCode,
      });
    }
    throw e;
  }
}

/**
 * How many bytes an earlier attempt's session holds (`Content-Range: bytes *\/N` answers 308 with
 * a Range), the file when that query completed it (every byte had arrived), or undefined when
 * the session cannot be continued (gone: 404/410; refused: another size).
 */
async function sessionStatus(
  p: ResumableUploadParams,
  session: string,
): Promise<{ held: number } | { file: drive_v3.Schema$File } | undefined> {
  try {
    const res = await p.client.call(
      'upload.status',
      p.what,
      () => put(p, session, Buffer.alloc(0), `bytes */${p.size ?? '*'}`),
      p.signal,
    );
    if (res.status !== 308) return { file: res.data };
    const held = persistedBytes(headerOf(res.headers, 'range'));
    return p.size !== undefined && held > p.size ? undefined : { held };
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof FatalError) return undefined;
    throw e;
  }
}

async function startSession(p: ResumableUploadParams): Promise<string> {
  const url = `${DEFAULT_API_BASE_URL}/upload/drive/v3/files${p.fileId ? `/${encodeURIComponent(p.fileId)}` : ''}`;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=UTF-8',
    'X-Upload-Content-Type': p.metadata.mimeType ?? 'application/octet-stream',
  };
  if (p.size !== undefined) headers['X-Upload-Content-Length'] = String(p.size);
  return p.client.call(
    'upload.start',
    p.what,
    async () => {
      const res = await p.client.request({
        url,
        method: p.fileId ? 'PATCH' : 'POST',
        params: { uploadType: 'resumable', supportsAllDrives: true, fields: FILE_FIELDS },
        headers,
        data: JSON.stringify(p.metadata),
        signal: p.signal,
      });
      const location = headerOf(res.headers, 'location');
      if (!location)
        throw new IntegrityError(
          'google-drive: the resumable session answer has no Location header',
        );
      return location;
    },
    p.signal,
  );
}

/**
 * Sends one chunk (bytes [start, start + data.length)) until the server has all of it. Returns the
 * file when the upload completed, undefined when more chunks are expected.
 */
async function sendChunk(
  p: ResumableUploadParams,
  session: string,
  data: Buffer,
  start: number,
  total: number | undefined,
  isLast: boolean,
  /** The first byte the server lacks (start, or more when a resumed session holds part of the chunk). */
  from: number,
): Promise<drive_v3.Schema$File | undefined> {
  const end = start + data.length;
  let acked = from;
  let mustAsk = false;
  const totalText = total === undefined ? '*' : String(total);
  return p.client.call(
    'upload.chunk',
    p.what,
    async () => {
      for (;;) {
        if (mustAsk) {
          // What did the server keep of the chunk that failed? `bytes */total` tells (308 + Range).
          const res = await put(p, session, Buffer.alloc(0), `bytes */${totalText}`);
          mustAsk = false;
          if (res.status !== 308) return res.data;
          acked = checkAcked(persistedBytes(headerOf(res.headers, 'range')), start, end, p.what);
        }
        if (acked >= end && !isLast) return undefined;
        const slice = data.subarray(acked - start);
        const range =
          slice.length === 0 ? `bytes */${totalText}` : `bytes ${acked}-${end - 1}/${totalText}`;
        let res;
        try {
          res = await put(p, session, slice, range);
        } catch (e) {
          // The connection broke or the server failed: it may have kept part of the chunk.
          const status = httpStatusOf(e);
          mustAsk = status === undefined || status >= 500 || status === 401 || status === 408;
          throw e;
        }
        if (res.status !== 308) return res.data;
        // The server may keep fewer bytes than sent: continue from its Range, not from what we sent.
        acked = checkAcked(persistedBytes(headerOf(res.headers, 'range')), start, end, p.what);
        if (acked >= end && !isLast) return undefined;
      }
    },
    p.signal,
  );
}

function checkAcked(acked: number, start: number, end: number, what: string): number {
  if (acked < start || acked > end) {
    throw new IntegrityError(
      `google-drive: the upload session of ${what} reports ${acked} bytes persisted, outside the chunk ${start}-${end}`,
    );
  }
  return acked;
}

function put(p: ResumableUploadParams, session: string, body: Buffer, contentRange: string) {
  return p.client.request<drive_v3.Schema$File>({
    url: session,
    method: 'PUT',
    headers: { 'Content-Range': contentRange, 'Content-Type': 'application/octet-stream' },
    data: body,
    validateStatus: acceptResumable,
    signal: p.signal,
  });
}
