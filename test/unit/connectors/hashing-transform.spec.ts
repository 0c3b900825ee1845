import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { DropboxContentHash } from '../../../src/connectors/hashing/dropbox-content-hash.js';
import { firstHashMismatch } from '../../../src/connectors/hashing/hash-kinds.js';
import { HashingTransform } from '../../../src/connectors/hashing/hashing-transform.js';
import { patternBytes } from '../../support/files.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('HashingTransform', () => {
  it('should compute the same digests as hashing the whole buffer, across chunk boundaries', async () => {
    const data = patternBytes(1_000_003, 1);
    const pieces = Array.from({ length: 100 }, (_, i) =>
      data.subarray(i * 10_001, (i + 1) * 10_001),
    );
    pieces.push(data.subarray(100 * 10_001));
    const sut = new HashingTransform(['sha256', 'md5', 'sha1']);

    await pipeline(Readable.from(pieces), sut, sink());

    expect(sut.bytes).toBe(data.length);
    expect(sut.hashes).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      md5: createHash('md5').update(data).digest('hex'),
      sha1: createHash('sha1').update(data).digest('hex'),
    });
  });

  it('should refuse to give hashes before the stream has ended', () => {
    const sut = new HashingTransform(['sha256']);
    expect(() => sut.hashes).toThrow('only known once the stream has ended');
  });

  it('should report each chunk to the progress callback', async () => {
    const seen: number[] = [];
    const sut = new HashingTransform(['sha256'], (n) => seen.push(n));
    await pipeline(Readable.from([Buffer.alloc(3), Buffer.alloc(5)]), sut, sink());
    expect(seen).toEqual([3, 5]);
  });
});

describe('DropboxContentHash', () => {
  it('should hash the SHA-256 of each 4 MiB block, whatever the chunking', () => {
    const data = patternBytes(4 * 1024 * 1024 * 2 + 123, 7);
    const blocks = [
      data.subarray(0, 4 << 20),
      data.subarray(4 << 20, 8 << 20),
      data.subarray(8 << 20),
    ];
    const expected = createHash('sha256')
      .update(Buffer.concat(blocks.map((b) => createHash('sha256').update(b).digest())))
      .digest('hex');
    const sut = new DropboxContentHash();
    for (let i = 0; i < data.length; i += 1_000_000) sut.update(data.subarray(i, i + 1_000_000));
    expect(sut.digest()).toBe(expected);
  });

  it('should hash an empty file as the SHA-256 of nothing', () => {
    expect(new DropboxContentHash().digest()).toBe(createHash('sha256').digest('hex'));
  });
});

describe('firstHashMismatch', () => {
  it('should compare only the kinds both sides carry, hex case-insensitively', () => {
    expect(firstHashMismatch({ md5: 'AB' }, { md5: 'ab', sha1: 'x' })).toBeUndefined();
    expect(firstHashMismatch({ md5: 'ab', sha256: '1' }, { sha256: '2' })).toBe('sha256');
    expect(firstHashMismatch({ quickXor: 'Ab==' }, { quickXor: 'ab==' })).toBe('quickXor');
  });
});
