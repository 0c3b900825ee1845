import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper } from 'ssh2';
import { SftpReadStream, SftpWriteStream } from '../../../../src/connectors/sftp/sftp.transfer.js';

type Done = () => void;

/**
 * An in-memory SFTP channel that holds every WRITE/READ reply until the test releases it, so the
 * number of requests in flight and the order of replies are under the test's control.
 */
class FakeSftp {
  file: Buffer = Buffer.alloc(0);
  pending: Array<{ kind: 'read' | 'write'; reply: Done }> = [];
  maxPending = 0;
  closed = 0;
  failWriteAt: number | undefined;
  /** READ answers at most this many bytes (a server may answer short). */
  readCap = Infinity;
  readonly _maxWriteLen = 1024;
  readonly _maxReadLen = 1024;

  open(_p: string, _f: string, a: unknown, c?: (e: Error | null, h: Buffer) => void): void {
    const cb = (c ?? a) as (e: Error | null, h: Buffer) => void;
    setImmediate(() => cb(null, Buffer.from('h')));
  }

  write(_h: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (e?: Error) => void) {
    const copy = Buffer.from(buf.subarray(off, off + len)); // ssh2 copies into its packet
    this.hold('write', () => {
      if (this.failWriteAt !== undefined && pos >= this.failWriteAt)
        return cb(Object.assign(new Error('Failure'), { code: 4 }));
      const end = pos + len;
      if (this.file.length < end)
        this.file = Buffer.concat([this.file, Buffer.alloc(end - this.file.length)]);
      copy.copy(this.file, pos);
      cb();
    });
  }

  read(
    _h: Buffer,
    buf: Buffer,
    off: number,
    len: number,
    pos: number,
    cb: (e: Error | undefined, n: number) => void,
  ) {
    this.hold('read', () => {
      const n = Math.max(0, Math.min(len, this.readCap, this.file.length - pos));
      if (n > 0) this.file.copy(buf, off, pos, pos + n);
      cb(undefined, n);
    });
  }

  close(_h: Buffer, cb: (e?: Error) => void): void {
    this.closed += 1;
    setImmediate(() => cb());
  }

  private hold(kind: 'read' | 'write', reply: Done): void {
    this.pending.push({ kind, reply });
    this.maxPending = Math.max(this.maxPending, this.pending.length);
  }

  /** Answers every pending request, the last sent first. */
  flushReversed(): number {
    const all = this.pending.splice(0).reverse();
    for (const p of all) p.reply();
    return all.length;
  }
}

function as(f: FakeSftp): SFTPWrapper {
  return f as unknown as SFTPWrapper;
}

/** Answers pending requests (in reverse order) until `done` settles. */
async function drive<T>(fake: FakeSftp, done: Promise<T>): Promise<T> {
  let settled = false;
  const p = done.finally(() => (settled = true));
  p.catch(() => undefined); // rejections are the caller's to assert, after the loop
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    fake.flushReversed();
  }
  return p;
}

function bytes(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
}

/** A source of `data` cut into pieces of `piece` bytes. */
function source(data: Buffer, piece: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) parts.push(data.subarray(i, i + piece));
  return Readable.from(parts);
}

describe('SftpWriteStream', () => {
  it('should keep several WRITEs in flight, within the limit, and store the bytes in place', async () => {
    const fake = new FakeSftp();
    const data = bytes(20_000);
    const out = new SftpWriteStream(as(fake), '/x', { chunkSize: 4096, maxInFlight: 4 });
    await drive(fake, pipeline(source(data, 700), out));
    // Requests are clamped to the server's limit (1024 here), answered in reverse order.
    expect(fake.maxPending).toBeGreaterThan(1);
    expect(fake.maxPending).toBeLessThanOrEqual(4);
    expect(fake.file.equals(data)).toBe(true);
    expect(out.bytesWritten).toBe(data.length);
    expect(fake.closed).toBe(1);
  });

  it('should fail with the server error of a WRITE and close the handle', async () => {
    const fake = new FakeSftp();
    fake.failWriteAt = 5000;
    const out = new SftpWriteStream(as(fake), '/x', { chunkSize: 1024, maxInFlight: 3 });
    await expect(drive(fake, pipeline(source(bytes(20_000), 512), out))).rejects.toMatchObject({
      code: 4,
    });
    expect(fake.closed).toBe(1);
  });

  it('should write an empty file', async () => {
    const fake = new FakeSftp();
    const out = new SftpWriteStream(as(fake), '/x', { chunkSize: 1024, maxInFlight: 3 });
    await drive(fake, pipeline(Readable.from([]), out));
    expect(fake.file.length).toBe(0);
    expect(fake.closed).toBe(1);
  });
});

describe('SftpReadStream', () => {
  it('should deliver a range in order with several READs in flight', async () => {
    const fake = new FakeSftp();
    fake.file = bytes(50_000);
    const r = new SftpReadStream(as(fake), '/x', 1234, 45_000, { chunkSize: 1024, maxInFlight: 5 });
    const got = await drive(fake, buffer(r));
    expect(got.equals(fake.file.subarray(1234, 45_000))).toBe(true);
    expect(fake.maxPending).toBeGreaterThan(1);
    expect(fake.maxPending).toBeLessThanOrEqual(5);
  });

  it('should ask for the rest after a short answer', async () => {
    const fake = new FakeSftp();
    fake.file = bytes(10_000);
    fake.readCap = 300;
    const r = new SftpReadStream(as(fake), '/x', 0, 10_000, { chunkSize: 1024, maxInFlight: 4 });
    const got = await drive(fake, buffer(r));
    expect(got.equals(fake.file)).toBe(true);
  });

  it('should end short at EOF when the file shrank', async () => {
    const fake = new FakeSftp();
    fake.file = bytes(3000);
    const r = new SftpReadStream(as(fake), '/x', 0, 10_000, { chunkSize: 1024, maxInFlight: 4 });
    const got = await drive(fake, buffer(r));
    expect(got.equals(fake.file)).toBe(true);
  });
});
