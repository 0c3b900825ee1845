/**
 * The multipart path of an S3 upload (uploadObject, s3.upload.ts, sends anything longer than its
 * first part this way): parts cut into reused buffers and sent `queueSize` at a time, the
 * multipart ETag checked at the end, and the resumable upload session (the locator a later
 * attempt continues, the parts S3 already holds, aborting an upload nothing will complete).
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { FatalError, IntegrityError, NotFoundError } from '../connector.errors.js';
import type { S3ApiClient } from './s3.client.js';
import { MiB, S3_MAX_PARTS } from './s3.options.js';
import type { UploadRequest, UploadResult } from './s3.upload.js';

/** Part size for an upload: the configured one, grown so a file of known size fits 10,000 parts. */
export function partSizeFor(configured: number, size: number | undefined): number {
  if (size === undefined || size <= configured * S3_MAX_PARTS) return configured;
  return Math.ceil(size / S3_MAX_PARTS / MiB) * MiB;
}

function takeBuffer(req: UploadRequest, size: number): Buffer {
  return req.pool ? req.pool.take(size) : Buffer.allocUnsafe(size);
}

/**
 * The multipart path. Parts are cut into `queueSize + 1` buffers of `partSize` allocated once and
 * reused: one being filled while up to `queueSize` upload. (lib-storage's Upload, used before,
 * concatenated a new buffer per part and kept the previous one alive through the remainder's
 * view: dead part buffers piled up as external memory until a full GC, ~90 MiB over the engine's
 * baseline for a 1 GiB file.) Each part carries Content-MD5, so S3 checks it; the multipart ETag
 * is checked against the parts' MD5s at the end. A part is a Buffer, so the pacer may send it
 * again.
 *
 * Resumable (issue 18, item 6): the upload's locator (bucket, key, UploadId) and the bytes of the
 * leading parts S3 acknowledged are reported through `req.session`. Given an earlier attempt's
 * locator, ListParts tells which parts S3 holds; the body is read from byte 0 as always, and a
 * leading held part whose size is the part size and whose ETag is the MD5 of the same bytes is
 * not sent again (its ETag goes into CompleteMultipartUpload). From the first part that does not
 * match, every part is sent (a part number sent again replaces the one S3 held). An upload S3 no
 * longer knows (NoSuchUpload: aborted, completed, expired by a lifecycle rule) is replaced by a
 * new one. A failure aborts the multipart upload (no orphaned parts billed) unless the caller
 * records it for a later attempt and the failure may pass (not an integrity or fatal error).
 */
export async function uploadMultipart(
  req: UploadRequest,
  head: Buffer[],
  iterator: AsyncIterator<unknown>,
  received: () => number,
  sha256Of: () => string | undefined,
  metadata: Record<string, string>,
): Promise<UploadResult> {
  const partSize = partSizeFor(req.partSize, req.size);
  const { api, bucket, key, what, signal } = req;
  const resumed = req.session?.resume
    ? await continuable(req, req.session.resume, partSize)
    : undefined;
  const held = resumed?.held ?? [];
  let uploadId = resumed?.uploadId;
  if (!uploadId) {
    const created = await api.call(
      'CreateMultipartUpload',
      what,
      () =>
        api.s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: 'application/octet-stream',
            Metadata: metadata,
          }),
          { abortSignal: signal },
        ),
      signal,
    );
    uploadId = created.UploadId;
  }
  if (!uploadId) throw new FatalError(`S3 gave no upload ID for '${what}'`);
  const locator = multipartLocator({ bucket, key, uploadId });
  req.session?.onConfirmed(locator, held.length * partSize);
  // The confirmed offset: the bytes of the parts 1..n S3 acknowledged, n as large as it goes
  // (parts are acknowledged out of order when several are in flight).
  let confirmedParts = 0;
  let confirmed = 0;
  const acked = new Map<number, number>();
  const ack = (partNumber: number, bytes: number) => {
    acked.set(partNumber, bytes);
    const before = confirmedParts;
    for (
      let b = acked.get(confirmedParts + 1);
      b !== undefined;
      b = acked.get(confirmedParts + 1)
    ) {
      acked.delete(++confirmedParts);
      confirmed += b;
    }
    if (confirmedParts > before) req.session?.onConfirmed(locator, confirmed);
  };
  // Stops the parts in flight once one fails or the caller aborts.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const done: CompletedPart[] = [];
  const md5s: Buffer[] = [];
  let failure: unknown;
  let pending: Buffer | undefined;
  let ended = false;
  const nextChunk = async (): Promise<Buffer | undefined> => {
    const queued = head.shift();
    if (queued) return queued;
    const next = await iterator.next();
    return next.done ? undefined : (next.value as Buffer);
  };
  /** Copies the next `partSize` bytes (fewer at the end) into `buf`. */
  const fill = async (buf: Buffer): Promise<number> => {
    let n = 0;
    while (n < partSize) {
      pending ??= await nextChunk();
      if (!pending) {
        ended = true;
        break;
      }
      const take = Math.min(pending.length, partSize - n);
      pending.copy(buf, n, 0, take);
      n += take;
      pending = take < pending.length ? pending.subarray(take) : undefined;
    }
    return n;
  };
  try {
    for (let partNumber = 1; ; partNumber++) {
      signal?.throwIfAborted();
      const buf = free.pop() ?? takeBuffer(req, partSize);
      const n = await fill(buf);
      if (failure) throw failure;
      if (n === 0 && partNumber > 1) {
        free.push(buf);
        break;
      }
      if (partNumber > S3_MAX_PARTS)
        throw new FatalError(
          `'${what}' needs more than ${S3_MAX_PARTS} parts of ${partSize} bytes: raise the part size`,
        );
      const body = buf.subarray(0, n);
      const md5 = createHash('md5').update(body).digest();
      md5s.push(md5);
      const kept = held[partNumber - 1];
      if (kept && n === partSize && kept.md5 === md5.toString('hex')) {
        // S3 holds these very bytes as this part: not sent again.
        done.push({ PartNumber: partNumber, ETag: kept.etag });
        free.push(buf);
        ack(partNumber, n);
        if (ended) break;
        continue;
      }
      held.length = Math.min(held.length, partNumber - 1); // this part on is sent
      const sent = api
        .call(
          'UploadPart',
          what,
          () =>
            api.s3.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: partNumber,
                Body: body,
                ContentLength: n,
                ContentMD5: md5.toString('base64'),
              }),
              { abortSignal: stop.signal },
            ),
          stop.signal,
        )
        .then(
          (out) => {
            done.push({ PartNumber: partNumber, ETag: out.ETag });
            free.push(buf); // the request is over: the buffer takes the next part
            ack(partNumber, n);
          },
          (e: unknown) => {
            failure ??= e;
            stop.abort(e);
          },
        )
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (ended) break;
      while (inFlight.size >= req.queueSize && !failure) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const out = await api.call(
      'CompleteMultipartUpload',
      what,
      () =>
        api.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: done },
          }),
          { abortSignal: signal },
        ),
      signal,
    );
    const expected = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}`;
    const got = out.ETag?.replace(/"/g, '').toLowerCase();
    // Servers with SSE-KMS or their own ETag scheme answer something else: only a well-formed
    // multipart ETag ('<32 hex>-<parts>') is compared.
    if (got && /^[0-9a-f]{32}-\d+$/.test(got) && got !== expected) {
      throw new IntegrityError(
        `S3 stored different bytes for '${what}': multipart ETag ${got}, parts sent give ${expected}`,
      );
    }
    // Without the caller's digest the body was hashed in flight (uploadObject's sha256Of).
    const sha256 = sha256Of();
    if (sha256 === undefined)
      throw new IntegrityError(`'${what}': no SHA-256 of the uploaded body was computed`);
    return { size: received(), sha256, etag: out.ETag, shaInMetadata: false };
  } catch (e) {
    stop.abort(e);
    await Promise.allSettled(inFlight);
    // Kept for the next attempt when one is recorded and may succeed.
    const keep = req.session && !(e instanceof IntegrityError) && !(e instanceof FatalError);
    if (!keep) await abortQuietly(api, { bucket, key, uploadId });
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const b of free) req.pool?.give(b);
    free.length = 0;
  }
}

/** A multipart upload as an upload-session locator. */
export interface MultipartLocator {
  bucket: string;
  key: string;
  uploadId: string;
}

function multipartLocator(l: MultipartLocator): string {
  return JSON.stringify({ bucket: l.bucket, key: l.key, uploadId: l.uploadId });
}

export function parseLocator(locator: string): MultipartLocator | undefined {
  try {
    const l = JSON.parse(locator) as Partial<MultipartLocator>;
    if (typeof l.bucket === 'string' && typeof l.key === 'string' && typeof l.uploadId === 'string')
      return { bucket: l.bucket, key: l.key, uploadId: l.uploadId };
  } catch {
    // not ours: started fresh
  }
  return undefined;
}

/** A part S3 holds: its ETag as S3 gave it, and as a lower-case MD5 to compare. */
interface HeldPart {
  etag: string;
  md5: string;
}

/**
 * The earlier attempt's upload, when it can be continued: its UploadId and the leading parts
 * (1, 2, ... without a gap) S3 holds at the part size this upload uses. Undefined when S3 no
 * longer knows it (NoSuchUpload), or when the locator names another object (that upload is
 * aborted: nothing will complete it).
 */
async function continuable(
  req: UploadRequest,
  resume: string,
  partSize: number,
): Promise<{ uploadId: string; held: HeldPart[] } | undefined> {
  const { api, bucket, key, what, signal } = req;
  const earlier = parseLocator(resume);
  if (!earlier) return undefined;
  if (earlier.bucket !== bucket || earlier.key !== key) {
    await abortQuietly(api, earlier);
    return undefined;
  }
  const held: HeldPart[] = [];
  // Parts past the end of a body of known size cannot be this body's.
  const most = req.size === undefined ? S3_MAX_PARTS : Math.floor(req.size / partSize);
  let marker: string | undefined;
  try {
    for (;;) {
      const page = await api.call(
        'ListParts',
        what,
        () =>
          api.s3.send(
            new ListPartsCommand({
              Bucket: bucket,
              Key: key,
              UploadId: earlier.uploadId,
              PartNumberMarker: marker,
            }),
            { abortSignal: signal },
          ),
        signal,
      );
      for (const p of page.Parts ?? []) {
        const md5 = p.ETag?.replace(/"/g, '').toLowerCase();
        if (
          held.length >= most ||
          p.PartNumber !== held.length + 1 ||
          p.Size !== partSize ||
          !md5 ||
          !p.ETag
        )
          return { uploadId: earlier.uploadId, held };
        held.push({ etag: p.ETag, md5 });
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker) break;
      marker = page.NextPartNumberMarker;
    }
  } catch (e) {
    if (e instanceof NotFoundError) return undefined; // NoSuchUpload
    throw e;
  }
  return { uploadId: earlier.uploadId, held };
}

/** Drops a multipart upload and its parts (best effort: a failure leaves them to S3's lifecycle rules). */
export async function abortQuietly(
  api: S3ApiClient,
  l: MultipartLocator,
  signal?: AbortSignal,
): Promise<void> {
  await api.s3
    .send(new AbortMultipartUploadCommand({ Bucket: l.bucket, Key: l.key, UploadId: l.uploadId }), {
      abortSignal: signal,
    })
    .catch(() => undefined);
}
