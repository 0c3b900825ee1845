import { partSizeFor } from '../../../../src/connectors/s3/s3.upload.js';

const MiB = 1024 * 1024;

describe('s3 multipart part size', () => {
  it('should keep the configured part size when the file fits 10,000 parts or its size is unknown', () => {
    expect(partSizeFor(8 * MiB, undefined)).toBe(8 * MiB);
    expect(partSizeFor(8 * MiB, 1024 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(8 * MiB, 80_000 * MiB)).toBe(8 * MiB);
  });

  it('should grow the parts, in whole MiB, so a large file of known size fits 10,000 parts', () => {
    const size = 200 * 1024 * MiB; // 200 GiB
    const part = partSizeFor(8 * MiB, size);
    expect(part % MiB).toBe(0);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
    expect(part).toBe(21 * MiB);
  });
});
