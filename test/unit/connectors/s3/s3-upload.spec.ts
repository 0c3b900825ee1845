import { PartBufferPool, partSizeFor } from '../../../../src/connectors/s3/s3.upload.js';

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

describe('s3 part buffer pool (issue #21)', () => {
  it('should hand the same buffer to the next upload instead of allocating a new one', () => {
    const sut = new PartBufferPool(MiB);
    const a = sut.take(3 * MiB);
    sut.give(a);
    const b = sut.take(2 * MiB);
    expect(b).toBe(a);
    expect(b.length).toBeGreaterThanOrEqual(2 * MiB);
  });

  it('should keep no more buffers than were in use at once, the largest ones', () => {
    const sut = new PartBufferPool(MiB);
    const small = sut.take(1 * MiB);
    const large = sut.take(8 * MiB);
    sut.give(small);
    sut.give(large);
    const third = Buffer.alloc(4 * MiB);
    expect(sut.take(1)).toBe(small); // the smallest that fits
    sut.give(third);
    // Two were in use at most: the two largest stay.
    expect(sut.take(8 * MiB)).toBe(large);
    expect(sut.take(4 * MiB)).toBe(third);
    expect(sut.take(1 * MiB)).not.toBe(small);
  });
});

describe('s3 whole-body budget (issue #21)', () => {
  it('should hold a body back while the bodies in flight would pass the budget, and let it go when one ends', async () => {
    const sut = new PartBufferPool(MiB, 10 * MiB);
    const a = await sut.takeWithinBudget(6 * MiB);
    const b = await sut.takeWithinBudget(4 * MiB); // 10 MiB: exactly the budget
    let third: Buffer | undefined;
    const waiting = sut.takeWithinBudget(3 * MiB).then((buf) => (third = buf));
    await new Promise((r) => setImmediate(r));
    expect(third).toBeUndefined();
    sut.give(b);
    await waiting;
    expect(third!.length).toBeGreaterThanOrEqual(3 * MiB);
    sut.give(a);
    sut.give(third!);
  });

  it('should let a body larger than the budget go alone, and stop waiting when aborted', async () => {
    const sut = new PartBufferPool(MiB, 4 * MiB);
    const big = await sut.takeWithinBudget(9 * MiB);
    const ac = new AbortController();
    const waiting = sut.takeWithinBudget(1 * MiB, ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    sut.give(big);
  });
});
