import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type HeadObjectCommandOutput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import type { Capabilities } from '../capabilities.js';
import type {
  CallOptions,
  Connector,
  Entry,
  ReadOptions,
  UploadSessionDiscarder,
  WriteMeta,
} from '../connector.js';
import {
  IntegrityError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
} from '../connector.errors.js';
import { baseName, normalizePath, parentPath } from '../path.js';
import type { S3ApiClient } from './s3.client.js';
import { resumableDownload, type OpenedBody } from '../resumable-download.js';
import { mapS3Error } from './s3.errors.js';
import { etagIsMd5, fileEntry, folderEntry, META_MTIME, META_SHA256, S3Keys } from './s3.mapper.js';
import { s3Capabilities, S3_MAX_COPY_SIZE, type S3ConnectorOptions } from './s3.options.js';
import { BodyBlockPool } from './s3.body-blocks.js';
import { abortQuietly, parseLocator } from './s3.multipart.js';
import { PartBufferPool, uploadObject } from './s3.upload.js';

const MAX_DOWNLOAD_RESUMES = 10;
/** Bound of the subfolder cache (cleared, not evicted, past it). */
const KNOWN_FOLDERS_MAX = 10_000;
/** Deletes in flight while removing a folder (one DeleteObject per key: see remove()). */
const DELETE_CONCURRENCY = 8;

/**
 * Bytes the whole bodies of single PutObjects may hold at once (BodyBlockPool, in 256 KiB
 * blocks): 24 MiB is four photos of up to 6 MiB in flight (the transfer pool starts four), or
 * three of 8 MiB, and sixteen small files take 16 blocks (4 MiB).
 */
const WHOLE_BODY_BUDGET = 24 * 1024 * 1024;

/**
 * S3 and S3-compatible storage (B2, Wasabi, MinIO...) through @aws-sdk/client-s3. Folders are
 * key prefixes: list() asks ListObjectsV2 with '/' as delimiter and reports common prefixes as
 * folders. mkdir() writes a zero-byte 'dir/' marker, because an S3 "folder" only exists while a
 * key lives under it and the contract (and the person browsing the bucket) expects an empty
 * folder to stay once made; markers are what the AWS console and rclone write too.
 * An object only appears under its key when its PutObject or CompleteMultipartUpload succeeds,
 * so no temporary name is needed.
 */
export class S3Connector implements Connector, UploadSessionDiscarder {
  readonly kind = 's3';
  readonly capabilities: Capabilities;
  private readonly keys: S3Keys;
  /** Folder -> names of its subfolders, for the folder-in-the-way check of write(). */
  private readonly subfolders = new Map<string, Set<string>>();
  /** Listings of subfolders under way, by folder (see isKnownFolder). */
  private readonly subfolderListings = new Map<string, Promise<Set<string>>>();
  /** Multipart part buffers. */
  private readonly buffers: PartBufferPool;
  /** Whole bodies of single PutObjects, within WHOLE_BODY_BUDGET. */
  private readonly bodies: BodyBlockPool;

  constructor(
    private readonly api: S3ApiClient,
    private readonly options: S3ConnectorOptions,
  ) {
    this.keys = new S3Keys(options.prefix);
    this.capabilities = s3Capabilities(options.partSize, options.listPageSize);
    this.buffers = new PartBufferPool(options.partSize);
    this.bodies = new BodyBlockPool(WHOLE_BODY_BUDGET);
  }

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    const rel = normalizePath(dir);
    const prefix = this.keys.folder(rel);
    let token: string | undefined;
    let seen = false;
    do {
      const page = await this.listPage(prefix, '/', this.options.listPageSize, token, rel, opts);
      for (const cp of page.CommonPrefixes ?? []) {
        if (!cp.Prefix) continue;
        seen = true;
        yield folderEntry(this.keys.pathOf(cp.Prefix));
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        seen = true;
        if (o.Key === prefix) continue; // the folder's own marker
        yield fileEntry(this.keys.pathOf(o.Key), {
          key: o.Key,
          size: o.Size ?? 0,
          lastModified: o.LastModified,
          etag: o.ETag,
          // A listing does not say how the object is encrypted: its ETag may not be an MD5.
          etagIsMd5: false,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!seen && rel !== '') {
      if (await this.headFile(rel, opts))
        throw new NotADirectoryError(`'${rel}' is a file, not a folder`);
      throw new NotFoundError(`folder '${rel}' does not exist`);
    }
  }

  async stat(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') return folderEntry('');
    const head = await this.headFile(rel, opts);
    if (head) return this.entryFromHead(rel, head);
    if (await this.folderExists(rel, opts)) return folderEntry(rel);
    throw new NotFoundError(`'${rel}' does not exist`);
  }

  async read(path: string, opts: ReadOptions = {}): Promise<Readable> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('the root is a folder');
    const offset = opts.range?.offset ?? 0;
    const length = opts.range?.length;
    if (offset < 0 || (length !== undefined && length < 0))
      throw new InvalidRangeError(`invalid range ${offset}+${length}`);
    if (length === 0) return this.emptyRead(rel, offset, opts);
    const last = length === undefined ? undefined : offset + length - 1;
    let first: OpenedBody & { etag?: string };
    try {
      first = await this.openGet(
        rel,
        opts.range ? { start: offset, last } : undefined,
        undefined,
        opts.signal,
      );
    } catch (e) {
      if (e instanceof InvalidRangeError) return this.emptyRead(rel, offset, opts);
      if (e instanceof NotFoundError && (await this.folderExists(rel, opts)))
        throw new IsADirectoryError(`'${rel}' is a folder`);
      throw e;
    }
    return resumableDownload(
      first,
      // Pinned to the ETag first served, so a resumed stream never mixes two versions.
      (position) =>
        this.openGet(rel, { start: position, last: first.end - 1 }, first.etag, opts.signal),
      {
        what: rel,
        maxResumes: MAX_DOWNLOAD_RESUMES,
        mapError: (e) => mapS3Error(e, rel),
        signal: opts.signal,
      },
    );
  }

  async write(path: string, body: Readable, meta: WriteMeta = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') throw new IsADirectoryError('cannot write a file over the root folder');
    if (await this.isKnownFolder(rel, meta))
      throw new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`);
    const key = this.keys.file(rel);
    let up;
    try {
      up = await uploadObject({
        api: this.api,
        bucket: this.options.bucket,
        key,
        what: rel,
        body,
        partSize: this.options.partSize,
        queueSize: this.options.queueSize,
        size: meta.size,
        modifiedAt: meta.modifiedAt,
        signal: meta.signal,
        pool: this.buffers,
        blocks: this.bodies,
        contentMd5: this.options.contentMd5,
        session: meta.session,
        digests: meta.digests,
      });
    } catch (e) {
      // An error of the incoming stream is the caller's (a broken source), not the bucket's.
      if (body.errored) throw body.errored;
      throw mapS3Error(e, rel);
    }
    if (!up.shaInMetadata && up.size <= S3_MAX_COPY_SIZE) {
      // CreateMultipartUpload fixed the metadata before the SHA-256 was known: a copy onto
      // itself (server side, no bytes through us) records it. Pinned to the uploaded ETag.
      await this.api.call(
        'CopyObject',
        rel,
        () =>
          this.api.s3.send(
            new CopyObjectCommand({
              Bucket: this.options.bucket,
              Key: key,
              CopySource: `${this.options.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
              CopySourceIfMatch: up.etag,
              MetadataDirective: 'REPLACE',
              ContentType: 'application/octet-stream',
              Metadata: {
                [META_SHA256]: up.sha256,
                ...(meta.modifiedAt ? { [META_MTIME]: String(meta.modifiedAt.getTime()) } : {}),
              },
            }),
            { abortSignal: meta.signal },
          ),
        meta.signal,
      );
    }
    this.noteFolders(rel);
    if (up.shaInMetadata) {
      // One PutObject: S3 checked the whole body against its Content-MD5 and answered its ETag,
      // and the metadata went with it; a HEAD would only read back what was just sent.
      const entry = fileEntry(rel, {
        key,
        size: up.size,
        etag: up.etag,
        metadata: { [META_SHA256]: up.sha256 },
        etagIsMd5: etagIsMd5(up.serverSideEncryption, up.sseCustomerAlgorithm),
      });
      if (up.md5 && entry.hashes.md5 !== undefined && entry.hashes.md5 !== up.md5)
        throw new IntegrityError(`'${rel}': S3's ETag is not the MD5 of the bytes sent`);
      return entry;
    }
    const head = await this.headFile(rel, meta);
    if (!head) throw new IntegrityError(`'${rel}' is missing right after its upload`);
    const entry = this.entryFromHead(rel, head);
    if (entry.size !== up.size)
      throw new IntegrityError(`'${rel}': sent ${up.size} bytes, S3 holds ${entry.size}`);
    if (entry.hashes.sha256 !== undefined && entry.hashes.sha256 !== up.sha256)
      throw new IntegrityError(
        `'${rel}': the SHA-256 in the object's metadata is not the one sent`,
      );
    if (up.md5 && entry.hashes.md5 !== undefined && entry.hashes.md5 !== up.md5)
      throw new IntegrityError(`'${rel}': S3's ETag is not the MD5 of the bytes sent`);
    return entry;
  }

  /** Aborts a multipart upload an earlier attempt left (its parts are billed until then). */
  async discardUploadSession(locator: string, opts: CallOptions = {}): Promise<void> {
    const l = parseLocator(locator);
    if (l && l.bucket === this.options.bucket) await abortQuietly(this.api, l, opts.signal);
  }

  async mkdir(path: string, opts: CallOptions = {}): Promise<Entry> {
    const rel = normalizePath(path);
    if (rel === '') return folderEntry('');
    if (await this.headFile(rel, opts))
      throw new NotADirectoryError(`cannot create folder '${rel}': a file is in the way`);
    const marker = this.keys.folder(rel);
    this.noteFolders(`${rel}/`);
    await this.api.call(
      'PutObject',
      rel,
      () =>
        this.api.s3.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: marker,
            Body: Buffer.alloc(0),
            ContentLength: 0,
            ContentType: 'application/x-directory',
          }),
          { abortSignal: opts.signal },
        ),
      opts.signal,
    );
    return folderEntry(rel);
  }

  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    const rel = normalizePath(path);
    if (rel === '') throw new InvalidPathError('refusing to remove the root folder of the account');
    const keys: string[] = [];
    if (await this.headFile(rel, opts)) keys.push(this.keys.file(rel));
    const prefix = this.keys.folder(rel);
    let token: string | undefined;
    do {
      // No delimiter: every key below the folder, at any depth, its marker included.
      const page = await this.listPage(prefix, undefined, 1000, token, rel, opts);
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) throw new NotFoundError(`'${rel}' does not exist`);
    this.subfolders.clear();
    // One DeleteObject per key rather than DeleteObjects: the batch call requires a Content-MD5
    // or checksum header that several S3-compatible servers handle differently.
    const queue = [...keys];
    const workers = Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const key = k;
        await this.api.call(
          'DeleteObject',
          rel,
          () =>
            this.api.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }), {
              abortSignal: opts.signal,
            }),
          opts.signal,
        );
      }
    });
    await Promise.all(workers);
  }

  async close(): Promise<void> {
    this.api.close();
  }

  private listPage(
    prefix: string,
    delimiter: string | undefined,
    maxKeys: number,
    token: string | undefined,
    what: string,
    opts: CallOptions,
  ): Promise<ListObjectsV2CommandOutput> {
    return this.api.call(
      'ListObjectsV2',
      what,
      () =>
        this.api.s3.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: prefix === '' ? undefined : prefix,
            Delimiter: delimiter,
            MaxKeys: maxKeys,
            ContinuationToken: token,
          }),
          { abortSignal: opts.signal },
        ),
      opts.signal,
    );
  }

  private async headFile(
    rel: string,
    opts: CallOptions,
  ): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.api.call(
        'HeadObject',
        rel,
        () =>
          this.api.s3.send(
            new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.keys.file(rel) }),
            { abortSignal: opts.signal },
          ),
        opts.signal,
      );
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * Whether a folder sits at `rel`, from one listing of its parent per connector life (cached:
   * a LIST per file was a third of a small file's requests), kept current by this connector's
   * own writes, mkdirs and removes.
   */
  private async isKnownFolder(rel: string, opts: CallOptions): Promise<boolean> {
    const parent = parentPath(rel);
    let names = this.subfolders.get(parent);
    if (!names) {
      // One listing per folder, however many writes into it start at once (the transfer pool
      // runs up to 16 small files together, most in the same folder: 16 LISTs before).
      let listing = this.subfolderListings.get(parent);
      if (!listing) {
        listing = this.listSubfolders(parent, opts).finally(() =>
          this.subfolderListings.delete(parent),
        );
        this.subfolderListings.set(parent, listing);
      }
      names = await listing;
    }
    return names.has(baseName(rel));
  }

  private async listSubfolders(parent: string, opts: CallOptions): Promise<Set<string>> {
    const names = new Set<string>();
    const prefix = this.keys.folder(parent);
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, '/', 1000, token, parent, opts);
      for (const cp of page.CommonPrefixes ?? [])
        if (cp.Prefix) names.add(baseName(this.keys.pathOf(cp.Prefix)));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (this.subfolders.size >= KNOWN_FOLDERS_MAX) this.subfolders.clear();
    this.subfolders.set(parent, names);
    return names;
  }

  /** A key was written at `rel`: each of its parents is now a folder of its own parent. */
  private noteFolders(rel: string): void {
    for (let p = parentPath(rel); p !== ''; p = parentPath(p))
      this.subfolders.get(parentPath(p))?.add(baseName(p));
  }

  private async folderExists(rel: string, opts: CallOptions): Promise<boolean> {
    if (rel === '') return true;
    const page = await this.listPage(this.keys.folder(rel), undefined, 1, undefined, rel, opts);
    return (page.Contents ?? []).length > 0 || (page.KeyCount ?? 0) > 0;
  }

  private entryFromHead(rel: string, head: HeadObjectCommandOutput): Entry {
    return fileEntry(rel, {
      key: this.keys.file(rel),
      size: head.ContentLength ?? 0,
      lastModified: head.LastModified,
      etag: head.ETag,
      metadata: head.Metadata,
      etagIsMd5: etagIsMd5(head.ServerSideEncryption, head.SSECustomerAlgorithm),
    });
  }

  private async openGet(
    rel: string,
    range: { start: number; last?: number } | undefined,
    ifMatch: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<OpenedBody & { etag?: string }> {
    const out = await this.api.call(
      'GetObject',
      rel,
      () =>
        this.api.s3.send(
          new GetObjectCommand({
            Bucket: this.options.bucket,
            Key: this.keys.file(rel),
            Range: range ? `bytes=${range.start}-${range.last ?? ''}` : undefined,
            IfMatch: ifMatch,
          }),
          { abortSignal: signal },
        ),
      signal,
    );
    const start = range?.start ?? 0;
    const body = out.Body as Readable | undefined;
    return {
      body: body ?? Readable.from([]),
      start,
      end: start + (out.ContentLength ?? 0),
      etag: out.ETag,
    };
  }

  private async emptyRead(rel: string, offset: number, opts: CallOptions): Promise<Readable> {
    const entry = await this.stat(rel, opts);
    if (entry.kind === 'folder') throw new IsADirectoryError(`'${rel}' is a folder`);
    const size = entry.size ?? 0;
    if (offset > size)
      throw new InvalidRangeError(
        `range starts at ${offset}, past the end of '${rel}' (${size} bytes)`,
      );
    return Readable.from([]);
  }
}
