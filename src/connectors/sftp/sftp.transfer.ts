import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

/**
 * Pipelined SFTP transfers. ssh2's createWriteStream/createReadStream keep one WRITE or READ
 * request in flight and wait for its reply before sending the next, so every request costs a full
 * round trip (on loopback, a delayed ACK: ~40 ms per 64 KiB, 1.5 MiB/s). These streams keep up to
 * `maxInFlight` requests outstanding at consecutive offsets, as ssh2's fastPut/fastGet do, which
 * bounds the memory of one transfer to about `chunkSize x maxInFlight` (1 MiB by default).
 */
export interface SftpPipelineOptions {
  /** Bytes per WRITE/READ request; clamped to what the server accepts in one request. */
  chunkSize: number;
  /** Requests outstanding at once. */
  maxInFlight: number;
}

export const SFTP_PIPELINE_DEFAULTS: SftpPipelineOptions = {
  chunkSize: 64 * 1024,
  maxInFlight: 16,
};

/** ssh2 keeps the server's per-request limits (limits@openssh.com, or its defaults) here. */
interface SftpLimits {
  _maxWriteLen?: number;
  _maxReadLen?: number;
}

/**
 * A request larger than the limit makes ssh2 send the rest after the reply, reading the caller's
 * buffer again later: keeping requests within the limit lets the writer reuse one buffer.
 */
function clampChunk(sftp: SFTPWrapper, wanted: number, which: 'read' | 'write'): number {
  const limits = sftp as unknown as SftpLimits;
  const max = which === 'write' ? limits._maxWriteLen : limits._maxReadLen;
  // 32 KiB is what every SFTP server must accept (draft-ietf-secsh-filexfer-02, 3).
  const limit = typeof max === 'number' && max > 0 ? max : 32 * 1024;
  return Math.max(1, Math.min(wanted, limit));
}

/**
 * Writes a new remote file (opened with 'w', truncating) through pipelined WRITE requests. The
 * incoming bytes are gathered into one reused `chunkSize` buffer; ssh2 copies each request into
 * its packet when it is sent, so the memory held is the packets in flight. `_write` calls back
 * at once while fewer than `maxInFlight` requests are outstanding, and otherwise when one is
 * answered; `_final` sends the tail, waits for every reply, then closes the handle, so 'finish'
 * means the server acknowledged every byte and the file is closed. A failed WRITE fails the
 * stream; destroying it closes the handle (the caller removes the file).
 */
export class SftpWriteStream extends Writable {
  private handle: Buffer | undefined;
  private readonly chunk: number;
  private readonly staging: Buffer;
  private filled = 0;
  private position = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  /** A `_write` or `_final` callback waiting for a reply. */
  private waiting: ((err?: Error | null) => void) | undefined;
  private waitFor: 'room' | 'all' = 'room';
  /** Bytes the server acknowledged. */
  bytesWritten = 0;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly path: string,
    private readonly opts: SftpPipelineOptions & { mode?: number } = SFTP_PIPELINE_DEFAULTS,
  ) {
    super({ highWaterMark: opts.chunkSize });
    this.chunk = clampChunk(sftp, opts.chunkSize, 'write');
    this.staging = Buffer.allocUnsafe(this.chunk);
  }

  override _construct(callback: (err?: Error | null) => void): void {
    const attrs = this.opts.mode === undefined ? {} : { mode: this.opts.mode };
    this.sftp.open(this.path, 'w', attrs, (err, handle) => {
      if (err) return callback(err);
      this.handle = handle;
      callback();
    });
  }

  override _write(
    data: Buffer,
    _enc: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.chunk - this.filled);
      data.copy(this.staging, this.filled, off, off + n);
      this.filled += n;
      off += n;
      if (this.filled === this.chunk) this.send();
    }
    this.wait('room', callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.filled > 0) this.send();
    this.wait('all', (err) => {
      if (err) return callback(err);
      const h = this.handle;
      this.handle = undefined;
      if (!h) return callback();
      this.sftp.close(h, (e) => callback(e ?? null));
    });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const h = this.handle;
    this.handle = undefined;
    this.waiting = undefined;
    if (!h) return callback(err);
    this.sftp.close(h, () => callback(err));
  }

  private send(): void {
    const len = this.filled;
    const at = this.position;
    this.filled = 0;
    this.position += len;
    this.inFlight += 1;
    // ssh2 copies [0, len) of the staging buffer into the packet before returning.
    this.sftp.write(this.handle!, this.staging, 0, len, at, (err) => {
      this.inFlight -= 1;
      if (err) this.failure ??= err;
      else this.bytesWritten += len;
      this.wake();
    });
  }

  private wait(what: 'room' | 'all', callback: (err?: Error | null) => void): void {
    this.waitFor = what;
    this.waiting = callback;
    this.wake();
  }

  private wake(): void {
    const cb = this.waiting;
    if (!cb) return;
    if (this.failure) {
      this.waiting = undefined;
      return cb(this.failure);
    }
    const ready =
      this.waitFor === 'all' ? this.inFlight === 0 : this.inFlight < this.opts.maxInFlight;
    if (!ready) return;
    this.waiting = undefined;
    cb();
  }
}

interface ReadRequest {
  position: number;
  length: number;
  done: boolean;
  error?: Error;
  data?: Buffer;
}

/**
 * Reads [start, end) of a remote file through pipelined READ requests, delivered in order. Reads
 * are only issued while the consumer wants data, and at most `maxInFlight` at once. A short
 * answer (allowed by the protocol) is followed by a request for the rest; an early EOF ends the
 * stream short, which the caller (resumableDownload) reports or resumes.
 */
export class SftpReadStream extends Readable {
  private handle: Buffer | undefined;
  private readonly chunk: number;
  private readonly queue: ReadRequest[] = [];
  private next: number;
  private wanted = false;
  private ended = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly path: string,
    start: number,
    private readonly end: number,
    private readonly opts: SftpPipelineOptions = SFTP_PIPELINE_DEFAULTS,
  ) {
    super({ highWaterMark: opts.chunkSize });
    this.chunk = clampChunk(sftp, opts.chunkSize, 'read');
    this.next = start;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    this.sftp.open(this.path, 'r', (err, handle) => {
      if (err) return callback(err);
      this.handle = handle;
      callback();
    });
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const h = this.handle;
    this.handle = undefined;
    this.queue.length = 0;
    if (!h) return callback(err);
    this.sftp.close(h, () => callback(err));
  }

  private pump(): void {
    if (this.destroyed || this.ended) return;
    // Deliver what arrived, in order.
    while (this.wanted && this.queue[0]?.done) {
      const r = this.queue.shift()!;
      if (r.error) return void this.destroy(r.error);
      const n = r.data?.length ?? 0;
      if (n === 0) {
        // EOF before `end`: the file is shorter than it was; end here.
        return this.finish();
      }
      if (n < r.length) this.queue.unshift(this.issue(r.position + n, r.length - n));
      this.wanted = this.push(r.data);
    }
    if (this.queue.length === 0 && this.next >= this.end) return this.finish();
    while (this.wanted && this.queue.length < this.opts.maxInFlight && this.next < this.end) {
      const len = Math.min(this.chunk, this.end - this.next);
      this.queue.push(this.issue(this.next, len));
      this.next += len;
    }
  }

  private issue(position: number, length: number): ReadRequest {
    const req: ReadRequest = { position, length, done: false };
    const buf = Buffer.allocUnsafe(length);
    this.sftp.read(this.handle!, buf, 0, length, position, (err, bytesRead) => {
      req.done = true;
      if (err) req.error = err;
      else req.data = bytesRead === length ? buf : buf.subarray(0, bytesRead);
      this.pump();
    });
    return req;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }
}
