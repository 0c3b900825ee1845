import {
  DROPBOX_BLOCK_SIZE,
  DropboxContentHash,
} from '../../../../src/connectors/hashing/dropbox-content-hash.js';

function hashOf(pieces: Buffer[]): string {
  const sut = new DropboxContentHash();
  for (const p of pieces) sut.update(p);
  return sut.digest();
}

describe('DropboxContentHash', () => {
  // Vectors from shared/protocols/dropbox.md (checked against rclone's): bytes of ASCII 'A'.
  it('should hash an empty input as SHA-256 of nothing when there are no blocks', () => {
    expect(hashOf([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('should hash one byte as SHA-256 of the SHA-256 of that block when the input is tiny', () => {
    expect(hashOf([Buffer.from('A')])).toBe(
      '1cd6ef71e6e0ff46ad2609d403dc3fee244417089aa4461245a4e4fe23a55e42',
    );
  });

  it('should split into 4 MiB blocks when the input is one byte over a block', () => {
    const data = Buffer.alloc(DROPBOX_BLOCK_SIZE + 1, 'A');
    expect(hashOf([data])).toBe('8f553da8d00d0bf509d8470e242888be33019c20c0544811f5b2b89e98360b92');
  });

  it('should give the same hash whatever the chunking when pieces straddle block boundaries', () => {
    const data = Buffer.alloc(DROPBOX_BLOCK_SIZE + 1, 'A');
    const pieces: Buffer[] = [];
    for (let i = 0; i < data.length; i += 999_983) pieces.push(data.subarray(i, i + 999_983));
    expect(hashOf(pieces)).toBe('8f553da8d00d0bf509d8470e242888be33019c20c0544811f5b2b89e98360b92');
  });

  it('should differ from plain SHA-256 when the input is a whole block', () => {
    const data = Buffer.alloc(DROPBOX_BLOCK_SIZE, 'A');
    expect(hashOf([data])).not.toBe(hashOf([data, Buffer.from('A')]));
    expect(hashOf([data])).toHaveLength(64);
  });
});
