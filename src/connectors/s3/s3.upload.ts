import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { IntegrityError } from '../connector.errors.js';
import { HashingTransform } from '../hashing/hashing-transform.js';
import type { S3ApiClient } from './s3.client.js';
import { META_MTIME, META_SHA256 } from './s3.mapper.js';

export interface UploadRequest {
  api: S3ApiClient;
  bucket: string;
  key: string;
  what: string;
  body: Readable;
  partSize: number;
  queueSize: number;
  modifiedAt?: Date;
  signal?: AbortSignal;
}

export interface UploadResult {
  size: number;
  sha256: string;
  /** MD5 of the content when it went up in one PutObject (S3 checked it against Content-MD5). */
  md5?: string;
  etag?: string;
  /** Whether the SHA-256 is already in the object's metadata (single-part uploads). */
  shaInMetadata: boolean;
}

/**
 * Streams one object up. The first part is gathered in memory (at most `partSize` bytes): a body
 * that ends inside it goes up as one PutObject carrying Content-MD5 and the SHA-256 in its
 * metadata, so S3 itself checks the bytes. Anything longer goes to lib-storage's Upload, which
 * holds at most `queueSize` parts in memory and aborts the multipart upload when a part or the
 * source fails (leavePartsOnError: false), so no orphaned parts are billed. Its SHA-256 is only
 * known at the end, when CreateMultipartUpload has long fixed the metadata: the caller copies the
 * object onto itself to record it. The multipart ETag is checked against the MD5s of the parts.
 */
export async function uploadObject(req: UploadRequest): Promise<UploadResult> {
  const hashing = new HashingTransform(['sha256']);
  const partMd5 = new PartMd5Transform(req.partSize);
  const input = req.body.pipe(hashing).pipe(partMd5);
  // pipe() does not forward errors: a failing source must fail the upload, never end it short.
  req.body.once('error', (e) => input.destroy(e));
  hashing.once('error', (e) => input.destroy(e));
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < req.partSize) {
    req.signal?.throwIfAborted();
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = next.value as Buffer;
    head.push(chunk);
    headBytes += chunk.length;
  }
  const metadata: Record<string, string> = {};
  if (req.modifiedAt) metadata[META_MTIME] = String(req.modifiedAt.getTime());

  if (ended) {
    const data = Buffer.concat(head);
    const md5 = createHash('md5').update(data).digest();
    const sha256 = createHash('sha256').update(data).digest('hex');
    // The body is a Buffer, so the pacer may send it again after a 503 or a broken socket.
    const out = await req.api.call(
      'PutObject',
      req.what,
      () =>
        req.api.s3.send(
          new PutObjectCommand({
            Bucket: req.bucket,
            Key: req.key,
            Body: data,
            ContentLength: data.length,
            ContentMD5: md5.toString('base64'),
            ContentType: 'application/octet-stream',
            Metadata: { ...metadata, [META_SHA256]: sha256 },
          }),
          { abortSignal: req.signal },
        ),
      req.signal,
    );
    return {
      size: data.length,
      sha256,
      md5: md5.toString('hex'),
      etag: out.ETag,
      shaInMetadata: true,
    };
  }

  async function* rest(): AsyncGenerator<Buffer> {
    yield* head.splice(0);
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  const upload = new Upload({
    client: req.api.partsS3,
    params: {
      Bucket: req.bucket,
      Key: req.key,
      Body: Readable.from(rest(), { objectMode: false, highWaterMark: 1 }),
      ContentType: 'application/octet-stream',
      Metadata: metadata,
    },
    partSize: req.partSize,
    queueSize: req.queueSize,
    leavePartsOnError: false,
  });
  const onAbort = () => void upload.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  let etag: string | undefined;
  try {
    etag = (await upload.done()).ETag;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    input.destroy();
  }
  const expected = partMd5.multipartEtag();
  const got = etag?.replace(/"/g, '').toLowerCase();
  // Servers with SSE-KMS or their own ETag scheme answer something else: only a well-formed
  // multipart ETag ('<32 hex>-<parts>') is compared.
  if (got && /^[0-9a-f]{32}-\d+$/.test(got) && got !== expected) {
    throw new IntegrityError(
      `S3 stored different bytes for '${req.what}': multipart ETag ${got}, parts sent give ${expected}`,
    );
  }
  return {
    size: hashing.bytes,
    sha256: hashing.hashes.sha256!,
    etag,
    shaInMetadata: false,
  };
}

/**
 * Computes the MD5 of each `partSize` slice of the stream as it passes (lib-storage cuts parts at
 * exactly `partSize` bytes), hence the ETag S3 gives a multipart object: md5(md5s)-count.
 */
class PartMd5Transform extends Transform {
  private readonly digests: Buffer[] = [];
  private current = createHash('md5');
  private inPart = 0;

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, this.partSize - this.inPart);
      this.current.update(rest.subarray(0, take));
      this.inPart += take;
      rest = rest.subarray(take);
      if (this.inPart === this.partSize) this.closePart();
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.inPart > 0) this.closePart();
    cb();
  }

  multipartEtag(): string {
    const all = createHash('md5').update(Buffer.concat(this.digests)).digest('hex');
    return `${all}-${this.digests.length}`;
  }

  private closePart(): void {
    this.digests.push(this.current.digest());
    this.current = createHash('md5');
    this.inPart = 0;
  }
}
