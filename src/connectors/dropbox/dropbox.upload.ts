import type { Readable } from 'node:stream';
import type { files } from 'dropbox';
import type { UploadSessionHooks } from '../connector.js';
import {
  FatalError,
  IntegrityError,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';
import { DropboxContentHash } from '../hashing/dropbox-content-hash.js';
import type { DropboxFileMetadata } from './api/types.js';
import type { DropboxClient } from './dropbox.client.js';
import {
  correctOffsetOf,
  errorTags,
  isDropboxHttpFailure,
  mapDropboxError,
} from './dropbox.errors.js';
import { toDropboxTime } from './dropbox.mapper.js';

const EMPTY = Buffer.alloc(0);

export interface UploadRequest {
  client: DropboxClient;
  /** Dropbox path ('/a/b.bin'). */
  path: string;
  /** Connector path, for messages. */
  what: string;
  body: Readable;
  chunkSize: number;
  /** The size the caller announced, if any: sizes the chunk buffer of a file below one chunk. */
  sizeHint?: number;
  modifiedAt?: Date;
  signal?: AbortSignal;
  /** Reports the session and what it confirmed; continues one an earlier attempt left. */
  session?: UploadSessionHooks;
}

/**
 * Cuts a stream into chunks of exactly `size` bytes (the last one shorter, possibly empty), all
 * in ONE buffer allocated once per upload and filled in place: the consumer must be done with a
 * chunk (sent and answered) before asking for the next. With the announced file size the buffer
 * is only as large as the file when that is below `size`; should the stream bring more than
 * announced, it is grown to `size` once.
 */
async function* chunked(
  body: AsyncIterable<unknown>,
  size: number,
  sizeHint?: number,
): AsyncGenerator<{ data: Buffer; last: boolean }> {
  const first = sizeHint !== undefined && sizeHint >= 0 ? Math.min(size, sizeHint) : size;
  let buf = Buffer.allocUnsafe(first);
  let fill = 0;
  for await (const raw of body) {
    let piece = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
    while (piece.length > 0) {
      if (fill === buf.length) {
        // Only reachable while buf is smaller than a chunk (a full chunk is yielded below).
        const bigger = Buffer.allocUnsafe(size);
        buf.copy(bigger, 0, 0, fill);
        buf = bigger;
      }
      const n = Math.min(piece.length, buf.length - fill);
      piece.copy(buf, fill, 0, n);
      fill += n;
      piece = piece.subarray(n);
      if (fill === size) {
        yield { data: buf, last: false };
        fill = 0;
      }
    }
  }
  yield { data: buf.subarray(0, fill), last: true };
}

/**
 * Streams a file to Dropbox and returns its metadata once committed and verified. A stream that
 * ends within the first chunk goes up in one `files/upload`; anything longer goes through an
 * upload session: `start` (empty), one `append_v2` per full chunk, `finish` with the remainder,
 * so the file appears under its name only when every byte is there. A failed append is resumed
 * at the offset Dropbox reports (`incorrect_offset.correct_offset`), resending only the bytes it
 * lacks. The content hash is computed in flight and compared with Dropbox's; on a mismatch the
 * file is deleted and IntegrityError thrown.
 */
export async function uploadFile(req: UploadRequest): Promise<DropboxFileMetadata> {
  const { client, signal } = req;
  const hash = new DropboxContentHash();
  // A session an earlier attempt left: the bytes it holds are read from the body (the content
  // hash needs them) but not sent again.
  const held = req.session?.resume ? await heldBy(req, req.session.resume) : undefined;
  let sessionId = held === undefined ? undefined : req.session!.resume!;
  const resumeAt = held ?? 0;
  if (sessionId !== undefined) req.session?.onConfirmed(sessionId, resumeAt);
  let offset = 0;
  let metadata: DropboxFileMetadata | undefined;
  let localHash = '';
  for await (const { data, last } of chunked(req.body, req.chunkSize, req.sizeHint)) {
    hash.update(data);
    const from = Math.max(offset, resumeAt);
    if (!last) {
      if (sessionId === undefined) {
        sessionId = await startSession(req);
        req.session?.onConfirmed(sessionId, 0);
      }
      if (from < offset + data.length) await appendChunk(req, sessionId, offset, data, from);
      offset += data.length;
      req.session?.onConfirmed(sessionId, offset);
      continue;
    }
    localHash = hash.digest();
    metadata =
      sessionId === undefined
        ? await uploadSmall(req, data)
        : await finishSession(
            req,
            sessionId,
            offset,
            data,
            localHash,
            Math.min(from, offset + data.length),
          );
    offset += data.length;
  }
  if (!metadata) throw new FatalError(`upload of '${req.what}' produced no metadata`);
  if (metadata.content_hash !== localHash || metadata.size !== offset) {
    await client
      .call(
        'files/delete_v2',
        req.what,
        'remove',
        (sdk) => sdk.filesDeleteV2({ path: req.path, parent_rev: metadata.rev }),
        signal,
      )
      .catch(() => undefined);
    throw new IntegrityError(
      `Dropbox stored '${req.what}' with content_hash ${metadata.content_hash ?? 'none'} (${metadata.size} bytes), ` +
        `but ${localHash} (${offset} bytes) was sent: the file was deleted`,
    );
  }
  return metadata;
}

function commitInfo(req: UploadRequest): files.CommitInfo {
  return {
    path: req.path,
    mode: { '.tag': 'overwrite' },
    autorename: false,
    mute: true,
    strict_conflict: false,
    ...(req.modifiedAt ? { client_modified: toDropboxTime(req.modifiedAt) } : {}),
  };
}

async function uploadSmall(req: UploadRequest, data: Buffer): Promise<DropboxFileMetadata> {
  // `mode: overwrite` makes a retried upload (answer lost) harmless; `data` stays in memory.
  const result = await req.client.call(
    'files/upload',
    req.what,
    'write',
    (sdk) => sdk.filesUpload({ ...commitInfo(req), contents: data }),
    req.signal,
  );
  return result as unknown as DropboxFileMetadata;
}

async function startSession(req: UploadRequest): Promise<string> {
  const r = await req.client.call(
    'files/upload_session/start',
    req.what,
    'write',
    (sdk) => sdk.filesUploadSessionStart({ close: false, contents: EMPTY }),
    req.signal,
  );
  return r.session_id;
}

/**
 * How many bytes an earlier attempt's session holds: an empty append at offset 0 is answered
 * with `incorrect_offset` and the session's real offset (or succeeds when it holds nothing).
 * Undefined when the session cannot be continued (not found, closed, expired).
 */
async function heldBy(req: UploadRequest, sessionId: string): Promise<number | undefined> {
  return req.client.pacer.call(
    'files/upload_session/append_v2',
    async () => {
      try {
        await req.client.attempt(req.signal, (sdk) =>
          sdk.filesUploadSessionAppendV2({
            cursor: { session_id: sessionId, offset: 0 },
            close: false,
            contents: EMPTY,
          }),
        );
        return 0;
      } catch (e) {
        const correct = correctOffsetOf(e);
        if (correct !== undefined) return correct;
        const mapped = mapDropboxError(e, req.what, 'write');
        if (mapped instanceof TransientError) throw mapped;
        if (isDropboxHttpFailure(e) && e.status === 409) return undefined;
        throw mapped;
      }
    },
    req.signal,
  );
}

/** Whether, after this failure, we no longer know how many bytes the session holds. */
function leavesOffsetUnknown(mapped: Error): boolean {
  return mapped instanceof TransientError && !(mapped instanceof RateLimitedError);
}

/**
 * Sends `data` (the bytes from `chunkStart`) to the session. After a broken connection the next
 * attempt first asks Dropbox where it stands with an empty append, then sends only the rest.
 */
async function appendChunk(
  req: UploadRequest,
  sessionId: string,
  chunkStart: number,
  data: Buffer,
  /** The first byte the session lacks (chunkStart, or more when a resumed session holds part). */
  from: number,
): Promise<void> {
  const end = chunkStart + data.length;
  let acked = from;
  let probe = false;
  await req.client.pacer.call(
    'files/upload_session/append_v2',
    async () => {
      while (acked < end || probe) {
        const contents = probe ? EMPTY : data.subarray(acked - chunkStart);
        try {
          await req.client.attempt(req.signal, (sdk) =>
            sdk.filesUploadSessionAppendV2({
              cursor: { session_id: sessionId, offset: acked },
              close: false,
              contents,
            }),
          );
          if (!probe) acked = end;
          probe = false;
        } catch (e) {
          const correct = correctOffsetOf(e);
          if (correct === undefined) {
            const mapped = mapDropboxError(e, req.what, 'write');
            if (leavesOffsetUnknown(mapped)) probe = true;
            throw mapped;
          }
          if (correct < chunkStart || correct > end) {
            throw new FatalError(
              `Dropbox's upload session for '${req.what}' holds ${correct} bytes; only bytes ${chunkStart}-${end} are still in memory`,
              { cause: e, providerCode: 'incorrect_offset' },
            );
          }
          acked = correct;
          probe = false;
        }
      }
    },
    req.signal,
  );
}

async function finishSession(
  req: UploadRequest,
  sessionId: string,
  chunkStart: number,
  data: Buffer,
  localHash: string,
  from: number,
): Promise<DropboxFileMetadata> {
  const end = chunkStart + data.length;
  let acked = from;
  let uncertain = false;
  return req.client.pacer.call(
    'files/upload_session/finish',
    async () => {
      for (;;) {
        try {
          const r = await req.client.attempt(req.signal, (sdk) =>
            sdk.filesUploadSessionFinish({
              cursor: { session_id: sessionId, offset: acked },
              commit: commitInfo(req),
              contents: data.subarray(acked - chunkStart),
            }),
          );
          return r.result as unknown as DropboxFileMetadata;
        } catch (e) {
          const correct = correctOffsetOf(e);
          if (
            correct !== undefined &&
            correct >= chunkStart &&
            correct <= end &&
            correct !== acked
          ) {
            acked = correct;
            continue;
          }
          // A finish whose answer was lost may have committed: the session is gone then.
          if (
            uncertain &&
            isDropboxHttpFailure(e) &&
            errorTags(e.error).join('/') === 'lookup_failed/not_found'
          ) {
            const committed = await committedCopy(req, localHash);
            if (committed) return committed;
          }
          const mapped = mapDropboxError(e, req.what, 'write');
          if (leavesOffsetUnknown(mapped)) uncertain = true;
          throw mapped;
        }
      }
    },
    req.signal,
  );
}

async function committedCopy(
  req: UploadRequest,
  localHash: string,
): Promise<DropboxFileMetadata | undefined> {
  try {
    const m = (await req.client.call(
      'files/get_metadata',
      req.what,
      'stat',
      (sdk) => sdk.filesGetMetadata({ path: req.path }),
      req.signal,
    )) as unknown as DropboxFileMetadata;
    return m['.tag'] === 'file' && m.content_hash === localHash ? m : undefined;
  } catch {
    return undefined;
  }
}
