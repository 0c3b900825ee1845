import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  PutObjectCommand,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { UploadSessionHooks } from '../connector.js';
import { TransientError } from '../connector.errors.js';
import type { HashSet } from '../hashing/hash-kinds.js';
import { HashingTransform } from '../hashing/hashing-transform.js';
import type { S3ApiClient } from './s3.client.js';
import { BodyBlockPool, blockViews, copyIntoBlocks } from './s3.body-blocks.js';
import { META_MTIME, META_SHA256 } from './s3.mapper.js';
import { uploadMultipart } from './s3.multipart.js';

/**
 * Whole bodies up to this size carry Content-MD5 besides the signed payload hash; larger ones
 * (photos) the signed payload hash only, unless the account asks for both (`contentMd5:
 * 'always'`). See putWhole.
 */
export const CONTENT_MD5_MAX = 1024 * 1024;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface UploadRequest {
  api: S3ApiClient;
  bucket: string;
  key: string;
  what: string;
  body: Readable;
  partSize: number;
  queueSize: number;
  /** Total bytes, when known: a large file gets parts big enough to fit S3's 10,000. */
  size?: number;
  modifiedAt?: Date;
  signal?: AbortSignal;
  /** The connector's shared part buffers (see PartBufferPool); without it, buffers are allocated. */
  pool?: PartBufferPool;
  /** The connector's blocks for whole bodies (see BodyBlockPool); without it, a pool of its own. */
  blocks?: BodyBlockPool;
  /**
   * Content-MD5 on every single PutObject ('always'), or only on bodies up to CONTENT_MD5_MAX
   * ('small', the default): see putWhole.
   */
  contentMd5?: 'always' | 'small';
  /** Reports the multipart upload and its confirmed prefix; continues one an earlier attempt left. */
  session?: UploadSessionHooks;
  /**
   * The caller's digests of the whole body, final once it ended (WriteMeta.digests): its
   * SHA-256 is used instead of hashing the body again.
   */
  digests?: () => HashSet | undefined;
}

export interface UploadResult {
  size: number;
  sha256: string;
  /** MD5 of the content when it went up in one PutObject (S3 checked it against Content-MD5). */
  md5?: string;
  etag?: string;
  /** The PutObject's answer about encryption (whether its ETag is an MD5); single PUTs only. */
  serverSideEncryption?: string;
  sseCustomerAlgorithm?: string;
  /** Whether the SHA-256 is already in the object's metadata (single-part uploads). */
  shaInMetadata: boolean;
}

/**
 * Streams one object up. The first part is gathered in memory (at most `partSize` bytes): a body
 * that ends inside it goes up as one PutObject carrying Content-MD5 and the SHA-256 in its
 * metadata, so S3 itself checks the bytes. Anything longer goes up as a multipart upload
 * (uploadMultipart) holding `queueSize + 1` part buffers. Its SHA-256 is only known at the end,
 * when CreateMultipartUpload has long fixed the metadata: the caller copies the object onto
 * itself to record it.
 */
export async function uploadObject(req: UploadRequest): Promise<UploadResult> {
  const single = isSinglePut(req);
  // The SHA-256 of the body (the metadata's, and the payload hash a single PutObject is signed
  // with) is the caller's when it hashes the body as it flows (the transfer core: its digest is
  // final once the body ended); else a body that goes up in one PutObject is hashed once, whole,
  // when it has arrived (putWhole), and only the multipart path hashes in flight.
  const hashing = single || req.digests ? undefined : new HashingTransform(['sha256']);
  const input = hashing ? req.body.pipe(hashing) : req.body;
  // pipe() does not forward errors: a failing source must fail the upload, never end it short.
  if (hashing) req.body.once('error', (e) => input.destroy(e));
  const chunks = input[Symbol.asyncIterator]();
  let received = 0;
  const iterator: AsyncIterator<unknown> = {
    next: async () => {
      const next = await chunks.next();
      if (!next.done) received += (next.value as Buffer).length;
      return next;
    },
  };
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  // A body of known size up to (queueSize + 1) parts goes up as one PutObject: it holds no more
  // memory than the multipart path would (queueSize + 1 part buffers), takes one request instead
  // of four plus a server-side copy, and S3 checks it whole. It is copied into fixed-size blocks
  // as it arrives (no second copy by concat); when the bodies in flight already hold the
  // budget, this one waits for one to finish.
  const size = req.size ?? 0;
  const bodies = req.blocks ?? new BodyBlockPool(Number.POSITIVE_INFINITY);
  const blocks = single ? await bodies.take(size, req.signal) : undefined;
  const gather = single ? size + 1 : req.partSize;
  try {
    while (headBytes < gather) {
      req.signal?.throwIfAborted();
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = next.value as Buffer;
      if (blocks && headBytes + chunk.length <= size)
        copyIntoBlocks(blocks, bodies.blockSize, headBytes, chunk);
      else head.push(chunk);
      headBytes += chunk.length;
    }
  } catch (e) {
    if (blocks) bodies.give(blocks);
    throw e;
  }
  const metadata: Record<string, string> = {};
  if (req.modifiedAt) metadata[META_MTIME] = String(req.modifiedAt.getTime());

  if (blocks) {
    // Longer or shorter than announced: nothing is sent (the object under the key, an earlier
    // version, stays whole); the caller's size check retries such a file.
    if (!ended || headBytes !== size) {
      bodies.give(blocks);
      input.destroy();
      throw new TransientError(
        `'${req.what}': the body is ${ended ? 'shorter' : 'longer'} than the ${size} bytes announced`,
      );
    }
    // The blocks go back once the request is over (putWhole calls this exactly once).
    const views = blockViews(blocks, bodies.blockSize, size);
    return putWhole(req, views, size, hashing, metadata, () => bodies.give(blocks));
  }
  if (ended) return putWhole(req, head, headBytes, hashing, metadata, () => undefined);

  try {
    return await uploadMultipart(
      req,
      head,
      iterator,
      () => received,
      () => sha256Of(req, hashing),
      metadata,
    );
  } finally {
    input.destroy();
  }
}

/**
 * One PutObject of a whole body (`pieces`, `size` bytes in all). S3 checks every one: the request
 * is signed with the body's SHA-256 as its payload hash (x-amz-content-sha256: the caller's
 * digest, WriteMeta.digests, so the body is not hashed again here), which S3 verifies before it
 * stores the object (XAmzContentSHA256Mismatch); bodies up to CONTENT_MD5_MAX also carry
 * Content-MD5, and their ETag is compared with it by the connector. A photo's MD5 was the largest
 * item of its CPU (8.3 ms per 5 MiB against 3.4 for SHA-256; issue #21), and adds no check S3
 * does not already make with the payload hash; `contentMd5: 'always'` keeps it for servers that
 * check Content-MD5 but not the payload hash.
 */
async function putWhole(
  req: UploadRequest,
  pieces: readonly Buffer[],
  size: number,
  hashing: HashingTransform | undefined,
  metadata: Record<string, string>,
  release: () => void,
): Promise<UploadResult> {
  let out: PutObjectCommandOutput;
  let sha256: string;
  let md5: Buffer | undefined;
  // Direct requests sent (one per attempt): the blocks are given back only once each is over
  // (an aborted one may still be writing them to its socket).
  const inFlight: Array<Promise<void>> = [];
  try {
    if (size <= CONTENT_MD5_MAX || req.contentMd5 === 'always') md5 = digestOf('md5', pieces);
    sha256 = sha256Of(req, hashing) ?? digestOf('sha256', pieces).toString('hex');
    const md5Base64 = md5?.toString('base64');
    const withSha = { ...metadata, [META_SHA256]: sha256 };
    const direct = await req.api.canPutDirect();
    // The body is in memory, so the pacer may send it again after a 503 or a broken socket.
    out = await req.api.call(
      'PutObject',
      req.what,
      () => {
        if (direct) {
          const sent = req.api.putDirect(
            {
              key: req.key,
              body: pieces,
              md5Base64,
              sha256Hex: sha256,
              metadata: withSha,
              contentType: 'application/octet-stream',
            },
            req.signal,
          );
          inFlight.push(sent.settled);
          return sent.out;
        }
        const input: PutObjectCommandInput = {
          Bucket: req.bucket,
          Key: req.key,
          Body: pieces.length === 1 ? pieces[0] : Buffer.concat(pieces),
          ContentLength: size,
          ContentMD5: md5Base64,
          ContentType: 'application/octet-stream',
          Metadata: withSha,
        };
        return req.api.s3.send(new PutObjectCommand(input), { abortSignal: req.signal });
      },
      req.signal,
    );
  } finally {
    if (inFlight.length > 0) void Promise.all(inFlight).finally(release);
    else release();
  }
  return {
    size,
    sha256,
    md5: md5?.toString('hex'),
    etag: out.ETag,
    serverSideEncryption: out.ServerSideEncryption,
    sseCustomerAlgorithm: out.SSECustomerAlgorithm,
    shaInMetadata: true,
  };
}

function digestOf(kind: 'md5' | 'sha256', pieces: readonly Buffer[]): Buffer {
  const h = createHash(kind);
  for (const p of pieces) h.update(p);
  return h.digest();
}

/**
 * Buffers for bodies and parts, shared by a connector's uploads and reused: a run of photos
 * allocated a new 2-8 MiB buffer per file, which V8 frees only at its next full GC (external
 * memory must grow ~64 MiB first): the S3 photo runs peaked at 224 MiB. The pool keeps at most as
 * many buffers as were ever in use at once (the transfers actually in flight), the largest ones.
 */
export class PartBufferPool {
  private readonly free: Buffer[] = [];
  private inUse = 0;
  private maxInUse = 0;

  constructor(private readonly granule: number) {}

  /** A buffer of at least `size` bytes (its length may be larger: use a view). */
  take(size: number): Buffer {
    this.inUse++;
    this.maxInUse = Math.max(this.maxInUse, this.inUse);
    // The smallest that fits (the list is kept largest first).
    const i = this.free.findLastIndex((b) => b.length >= size);
    const buf =
      i >= 0
        ? this.free.splice(i, 1)[0]!
        : // Rounded up to whole granules, so one buffer serves the next file of a similar size.
          Buffer.allocUnsafe(Math.max(1, Math.ceil(size / this.granule)) * this.granule);
    return buf;
  }

  give(buf: Buffer): void {
    this.inUse = Math.max(0, this.inUse - 1);
    this.free.push(buf);
    this.free.sort((a, b) => b.length - a.length);
    // Keep what the uploads in flight can use at once; drop the smallest beyond that.
    this.free.length = Math.min(this.free.length, this.maxInUse);
  }
}

/**
 * The body's SHA-256 when already known: hashed in flight here, or the caller's digest of the
 * whole body (final once the body ended, which it has when this is asked).
 */
function sha256Of(req: UploadRequest, hashing: HashingTransform | undefined): string | undefined {
  if (hashing) return hashing.hashes.sha256;
  const given = req.digests?.()?.sha256;
  return given !== undefined && SHA256_HEX.test(given) ? given : undefined;
}

/** Whether a body goes up as one PutObject whatever the part size (see uploadObject). */
export function isSinglePut(req: Pick<UploadRequest, 'size' | 'partSize' | 'queueSize'>): boolean {
  return req.size !== undefined && req.size <= req.partSize * (req.queueSize + 1);
}
