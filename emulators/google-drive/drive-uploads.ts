import { randomBytes } from 'node:crypto';
import { open, truncate, unlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DriveApiError, driveErrors } from './drive-errors.js';
import type { Fault, FaultQueue } from './drive-faults.js';
import {
  applyWritableMetadata,
  BlobHasher,
  FOLDER_MIME,
  hashFileRange,
  isNative,
  type DriveStore,
  type StoredBlob,
  type StoredFile,
} from './drive-store.js';

/** Google's resumable chunk granularity: every chunk but the last is a multiple of it. */
export const CHUNK_ALIGNMENT = 256 * 1024;
/** Multipart bodies are buffered (they are meant for small files, protocol brief 1). */
const MULTIPART_LIMIT = 64 * 1024 * 1024;

export type UploadCap =
  'userRateLimitExceeded' | 'storageQuotaExceeded' | 'dailyLimitExceeded' | null;

export interface UploadContext {
  store: DriveStore;
  faults: FaultQueue;
  /** Origin written into resumable `Location` headers (the real-looking one by default). */
  locationOrigin: string;
  sessionTtlMs: number;
  uploadCap(): UploadCap;
  /** Sends a file resource filtered by `fields`. */
  sendFile(res: ServerResponse, status: number, f: StoredFile, fields: string | null): void;
  /** Notes in the request log that a fault fired on this request. */
  noteFault(req: IncomingMessage, fault: string): void;
}

interface FileMetadata {
  name?: string;
  mimeType?: string;
  parents?: string[];
  modifiedTime?: string;
  createdTime?: string;
  description?: string;
  starred?: boolean;
  properties?: Record<string, string | null>;
  appProperties?: Record<string, string | null>;
}

export interface UploadSession {
  id: string;
  fileId?: string;
  meta: FileMetadata;
  mimeType: string;
  declaredTotal?: number;
  total?: number;
  received: number;
  path: string;
  hasher: BlobHasher;
  hashedUpTo: number;
  expiresAt: number;
  dead: boolean;
  done?: StoredFile;
  fields: string | null;
  supportsAllDrives: boolean;
  /** Ranges of chunk PUTs accepted, for tests proving resumption. */
  puts: Array<{ first: number; last: number; kept: number }>;
}

export class UploadHandler {
  readonly sessions = new Map<string, UploadSession>();

  constructor(private readonly ctx: UploadContext) {}

  expireAll(): void {
    for (const s of this.sessions.values()) s.dead = true;
  }

  /** POST /upload/drive/v3/files or PATCH /upload/drive/v3/files/{id}. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    fileId: string | undefined,
  ): Promise<void> {
    const q = url.searchParams;
    const uploadType = q.get('uploadType');
    const supportsAllDrives = q.get('supportsAllDrives') === 'true';
    if (q.has('upload_id')) return this.put(req, res, url);
    if (uploadType !== 'resumable' && uploadType !== 'multipart' && uploadType !== 'media') {
      throw driveErrors.invalid('uploadType', `Invalid upload type: ${uploadType ?? '(none)'}`);
    }
    const existing =
      fileId === undefined ? undefined : this.ctx.store.get(fileId, supportsAllDrives);
    if (existing && (existing.mimeType === FOLDER_MIME || isNative(existing.mimeType))) {
      throw driveErrors.badRequest('Media upload is not supported for this file type.');
    }
    this.checkCap();
    if (uploadType === 'resumable') return this.startSession(req, res, url, existing);
    if (uploadType === 'media') {
      const mimeType = (req.headers['content-type'] ?? 'application/octet-stream')
        .split(';')[0]!
        .trim();
      const blob = await this.receiveWhole(req);
      return this.commit(
        res,
        { mimeType },
        mimeType,
        blob,
        existing,
        q.get('fields'),
        supportsAllDrives,
      );
    }
    const { meta, mimeType, content } = parseMultipart(
      req.headers['content-type'],
      await readAll(req, MULTIPART_LIMIT),
    );
    const blob = await this.ctx.store.blobFromBuffer(content);
    return this.commit(
      res,
      meta,
      meta.mimeType ?? mimeType,
      blob,
      existing,
      q.get('fields'),
      supportsAllDrives,
    );
  }

  private async startSession(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    existing: StoredFile | undefined,
  ): Promise<void> {
    const raw = await readAll(req, 1024 * 1024);
    const meta = raw.length === 0 ? {} : (parseJson(raw) as FileMetadata);
    const lengthHeader = req.headers['x-upload-content-length'];
    let declaredTotal: number | undefined;
    if (lengthHeader !== undefined) {
      declaredTotal = Number(lengthHeader);
      if (!Number.isSafeInteger(declaredTotal) || declaredTotal < 0) {
        throw driveErrors.badRequest('Invalid X-Upload-Content-Length header.');
      }
    }
    const supportsAllDrives = url.searchParams.get('supportsAllDrives') === 'true';
    if (!existing) this.validateNew(meta, supportsAllDrives);
    const xType = req.headers['x-upload-content-type'];
    const mimeType =
      meta.mimeType ??
      (typeof xType === 'string' ? xType : undefined) ??
      'application/octet-stream';
    const id = `AHVrdx${randomBytes(30).toString('base64url')}`;
    const session: UploadSession = {
      id,
      fileId: existing?.id,
      meta,
      mimeType,
      declaredTotal,
      total: declaredTotal,
      received: 0,
      path: this.ctx.store.blobPath(),
      hasher: new BlobHasher(),
      hashedUpTo: 0,
      expiresAt: Date.now() + this.ctx.sessionTtlMs,
      dead: false,
      fields: url.searchParams.get('fields'),
      supportsAllDrives,
      puts: [],
    };
    await writeFile(session.path, Buffer.alloc(0));
    this.sessions.set(id, session);
    const loc = new URL(`${this.ctx.locationOrigin}${url.pathname}`);
    for (const [k, v] of url.searchParams) loc.searchParams.append(k, v);
    loc.searchParams.set('upload_id', id);
    res.writeHead(200, {
      Location: loc.toString(),
      'X-GUploader-UploadID': id,
      'Content-Length': 0,
    });
    res.end();
  }

  /** PUT <session URI>: a chunk or a status query. */
  private async put(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const id = url.searchParams.get('upload_id');
    const s = id ? this.sessions.get(id) : undefined;
    if (url.searchParams.get('uploadType') !== 'resumable' || !s) {
      throw new DriveApiError(404, 'notFound', 'Upload session not found.');
    }
    if (s.dead || s.expiresAt <= Date.now()) {
      s.dead = true;
      await unlink(s.path).catch(() => undefined);
      throw new DriveApiError(404, 'notFound', 'The upload session has expired or does not exist.');
    }
    if (s.done) return this.ctx.sendFile(res, 200, s.done, s.fields);
    const length = Number(req.headers['content-length'] ?? '0');
    const cr = parseContentRange(req.headers['content-range'], length);
    if (cr.total !== undefined) {
      if (s.total !== undefined && s.total !== cr.total) {
        throw driveErrors.badRequest(
          `Invalid request. The total size ${cr.total} differs from ${s.total}.`,
        );
      }
      if (cr.total < s.received)
        throw driveErrors.badRequest('Invalid request. Total is less than bytes received.');
    }
    if (cr.first === undefined) {
      // Status query: `bytes */total` (completes an upload whose bytes all arrived) or `bytes */*`.
      if (cr.total !== undefined) s.total = cr.total;
      if (s.total !== undefined && s.received === s.total) return this.finish(s, res);
      return this.incomplete(s, res);
    }
    this.checkCap();
    const last = cr.last!;
    const size = last - cr.first + 1;
    if (length !== size) {
      throw driveErrors.badRequest(
        `Invalid request. Content-Length ${length} does not match Content-Range.`,
      );
    }
    if (cr.first !== s.received) {
      throw driveErrors.badRequest(
        `Invalid request. According to the Content-Range header, the upload offset is ${cr.first} byte(s), ` +
          `which does not match the ${s.received} byte(s) already persisted.`,
      );
    }
    if (cr.total !== undefined && last + 1 > cr.total) {
      throw driveErrors.badRequest('Invalid request. Content-Range exceeds the total size.');
    }
    const isFinal = cr.total !== undefined && last + 1 === cr.total;
    if (!isFinal && size % CHUNK_ALIGNMENT !== 0) {
      throw driveErrors.badRequest(
        `Invalid request. The number of bytes uploaded is required to be equal or greater than ${CHUNK_ALIGNMENT}, ` +
          `except for the final request (it's recommended to be the exact multiple of ${CHUNK_ALIGNMENT}). ` +
          `The received request contained ${size} bytes, which does not meet this requirement.`,
      );
    }
    if (cr.total !== undefined) s.total = cr.total;
    const socket = req.socket; // req.socket is gone once the body iterator is broken off
    const fault = this.ctx.faults.take(
      'uploadChunk',
      url.pathname,
      (f) => f.type === 'cutUpload' || f.type === 'partialPersist' || f.type === 'expireSession',
    );
    if (fault?.type === 'expireSession') {
      s.dead = true;
      await unlink(s.path).catch(() => undefined);
      throw new DriveApiError(404, 'notFound', 'The upload session has expired or does not exist.');
    }
    const got = await this.receiveChunk(req, s, cr.first, size, fault);
    let kept = got;
    if (fault?.type === 'cutUpload') {
      kept = Math.min(got, fault.persistBytes ?? got - (got % CHUNK_ALIGNMENT));
    } else if (fault?.type === 'partialPersist') {
      kept = Math.min(got, fault.keepBytes);
    } else if (got < size) {
      kept = got - (got % CHUNK_ALIGNMENT); // the client went away mid-chunk
    }
    await this.persist(s, cr.first, got, kept);
    s.puts.push({ first: cr.first, last, kept });
    if (fault?.type === 'cutUpload' || got < size) {
      if (fault?.type === 'cutUpload') this.ctx.noteFault(req, `cutUpload after ${got}`);
      socket.destroy();
      return;
    }
    if (s.total !== undefined && s.received === s.total) return this.finish(s, res);
    return this.incomplete(s, res);
  }

  /** Reads the chunk body into the session file at `offset`; stops early for a cut fault. */
  private async receiveChunk(
    req: IncomingMessage,
    s: UploadSession,
    offset: number,
    size: number,
    fault: Fault | undefined,
  ): Promise<number> {
    const cutAt = fault?.type === 'cutUpload' ? Math.min(fault.afterBytes, size) : undefined;
    const hashInFlight = fault === undefined && s.hashedUpTo === offset;
    const fh = await open(s.path, 'r+');
    let got = 0;
    try {
      for await (const chunk of req) {
        let buf = chunk as Buffer;
        if (got + buf.length > size) buf = buf.subarray(0, size - got);
        if (cutAt !== undefined && got + buf.length >= cutAt) buf = buf.subarray(0, cutAt - got);
        await fh.write(buf, 0, buf.length, offset + got);
        if (hashInFlight) s.hasher.update(buf);
        got += buf.length;
        if (cutAt !== undefined && got >= cutAt) break;
      }
    } catch {
      // The client cut the connection: whatever arrived is handled by the caller.
    } finally {
      await fh.close();
    }
    if (hashInFlight) s.hashedUpTo = offset + got;
    return got;
  }

  /** Keeps `kept` of the `got` bytes written at `offset`; hashes stay those of the kept prefix. */
  private async persist(
    s: UploadSession,
    offset: number,
    got: number,
    kept: number,
  ): Promise<void> {
    s.received = offset + kept;
    if (kept < got) await truncate(s.path, s.received);
    if (s.hashedUpTo > s.received) {
      // Bytes were hashed in flight and then dropped: hash the kept prefix again.
      s.hasher = new BlobHasher();
      s.hashedUpTo = 0;
    }
    if (s.hashedUpTo < s.received) {
      await hashFileRange(s.path, s.hashedUpTo, s.received, s.hasher);
      s.hashedUpTo = s.received;
    }
  }

  private incomplete(s: UploadSession, res: ServerResponse): void {
    const headers: Record<string, string | number> = {
      'Content-Length': 0,
      'X-GUploader-UploadID': s.id,
    };
    if (s.received > 0) headers.Range = `bytes=0-${s.received - 1}`;
    res.writeHead(308, headers);
    res.end();
  }

  private async finish(s: UploadSession, res: ServerResponse): Promise<void> {
    if (s.declaredTotal !== undefined && s.declaredTotal !== s.received) {
      throw driveErrors.badRequest(
        'Invalid request. The uploaded size differs from X-Upload-Content-Length.',
      );
    }
    const blob: StoredBlob = { path: s.path, size: s.received, ...s.hasher.digest() };
    const existing =
      s.fileId === undefined ? undefined : this.ctx.store.get(s.fileId, s.supportsAllDrives);
    s.done = await this.store(s.meta, s.mimeType, blob, existing, s.supportsAllDrives);
    this.ctx.sendFile(res, 200, s.done, s.fields);
  }

  private async commit(
    res: ServerResponse,
    meta: FileMetadata,
    mimeType: string,
    blob: StoredBlob,
    existing: StoredFile | undefined,
    fields: string | null,
    supportsAllDrives: boolean,
  ): Promise<void> {
    if (!existing) this.validateNew(meta, supportsAllDrives);
    const f = await this.store(meta, mimeType, blob, existing, supportsAllDrives);
    this.ctx.sendFile(res, 200, f, fields);
  }

  private async store(
    meta: FileMetadata,
    mimeType: string,
    blob: StoredBlob,
    existing: StoredFile | undefined,
    supportsAllDrives: boolean,
  ): Promise<StoredFile> {
    const store = this.ctx.store;
    if (existing) {
      if (meta.name !== undefined) existing.name = meta.name;
      applyWritableMetadata(existing, meta);
      await store.replaceContent(existing, blob, meta.modifiedTime);
      return existing;
    }
    const parentId = meta.parents?.[0] ?? 'root';
    const driveId = store.driveOf(parentId, supportsAllDrives);
    const created = store.insert({
      name: meta.name ?? 'Untitled',
      mimeType,
      parentId,
      driveId,
      blob,
      modifiedTime: meta.modifiedTime,
      createdTime: meta.createdTime,
    });
    applyWritableMetadata(created, meta);
    return created;
  }

  private validateNew(meta: FileMetadata, supportsAllDrives: boolean): void {
    if (meta.parents !== undefined && (!Array.isArray(meta.parents) || meta.parents.length > 1)) {
      throw driveErrors.badRequest('A shared drive item must have exactly one parent.');
    }
    if (meta.mimeType === FOLDER_MIME) throw driveErrors.badRequest('Folders cannot have content.');
    if (meta.modifiedTime !== undefined && Number.isNaN(Date.parse(meta.modifiedTime))) {
      throw driveErrors.invalid('modifiedTime');
    }
    this.ctx.store.driveOf(meta.parents?.[0] ?? 'root', supportsAllDrives);
  }

  private checkCap(): void {
    switch (this.ctx.uploadCap()) {
      case 'userRateLimitExceeded':
        throw driveErrors.userRateLimit();
      case 'storageQuotaExceeded':
        throw driveErrors.storageQuota();
      case 'dailyLimitExceeded':
        throw driveErrors.dailyLimit();
      case null:
        return;
    }
  }

  private async receiveWhole(req: IncomingMessage): Promise<StoredBlob> {
    const path = this.ctx.store.blobPath();
    const fh = await open(path, 'w');
    const h = new BlobHasher();
    let size = 0;
    try {
      for await (const chunk of req) {
        const buf = chunk as Buffer;
        await fh.write(buf);
        h.update(buf);
        size += buf.length;
      }
    } finally {
      await fh.close();
    }
    return { path, size, ...h.digest() };
  }
}

interface ContentRange {
  first?: number;
  last?: number;
  total?: number;
}

/** `bytes a-b/total`, `bytes a-b/*`, `bytes *\/total`, `bytes *\/*`; absent = whole body. */
export function parseContentRange(header: string | undefined, length: number): ContentRange {
  if (header === undefined)
    return length === 0 ? {} : { first: 0, last: length - 1, total: length };
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!m) throw driveErrors.badRequest(`Failed to parse Content-Range header: ${header}`);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (m[1] === undefined) return { total };
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (last < first) throw driveErrors.badRequest(`Failed to parse Content-Range header: ${header}`);
  return { first, last, total };
}

async function readAll(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new DriveApiError(413, 'uploadTooLarge', 'The request body is too large.');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

export function parseJson(raw: Buffer): unknown {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    throw new DriveApiError(400, 'parseError', 'Parse Error');
  }
}

export { readAll as readBody };

/** `multipart/related`: part 1 is the JSON metadata, part 2 the media. */
function parseMultipart(
  contentType: string | undefined,
  body: Buffer,
): { meta: FileMetadata; mimeType: string; content: Buffer } {
  const m = /^multipart\/related;\s*boundary="?([^";]+)"?/i.exec(contentType ?? '');
  if (!m) throw driveErrors.badRequest('Content-Type must be multipart/related with a boundary.');
  const delim = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) throw driveErrors.badRequest('Malformed multipart body.');
    // Each part: CRLF headers CRLF CRLF body CRLF
    parts.push(body.subarray(start + 2, next - 2));
    pos = next;
  }
  if (parts.length !== 2)
    throw driveErrors.badRequest('Malformed multipart body: expected metadata and media.');
  const split = (p: Buffer) => {
    const sep = p.indexOf('\r\n\r\n');
    if (sep < 0) throw driveErrors.badRequest('Malformed multipart body.');
    const headers = p.subarray(0, sep).toString('utf8');
    const ct = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim();
    return { ct, body: p.subarray(sep + 4) };
  };
  const metaPart = split(parts[0]!);
  const media = split(parts[1]!);
  return {
    meta: parseJson(metaPart.body) as FileMetadata,
    mimeType: media.ct ?? 'application/octet-stream',
    content: media.body,
  };
}
