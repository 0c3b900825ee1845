import {
  BodyBlockPool,
  blockViews,
  copyIntoBlocks,
} from '../../../../src/connectors/s3/s3.body-blocks.js';
import { partSizeFor } from '../../../../src/connectors/s3/s3.multipart.js';
import { PartBufferPool } from '../../../../src/connectors/s3/s3.upload.js';

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

describe('s3 whole-body blocks (issue #21)', () => {
  it('should hold a body back while the bodies in flight would pass the budget, and let it go when one ends', async () => {
    const sut = new BodyBlockPool(10 * MiB, MiB);
    const a = await sut.take(6 * MiB);
    const b = await sut.take(3.5 * MiB); // 4 blocks: exactly the budget
    expect(sut.inUse).toBe(10);
    let third: Buffer[] | undefined;
    const waiting = sut.take(3 * MiB).then((blocks) => (third = blocks));
    await new Promise((r) => setImmediate(r));
    expect(third).toBeUndefined();
    sut.give(b);
    await waiting;
    expect(third).toHaveLength(3);
    sut.give(a);
    sut.give(third!);
    expect(sut.inUse).toBe(0);
  });

  it('should take whole blocks for a body, not whole part sizes: four 5.1 MiB photos fit 24 MiB', async () => {
    const sut = new BodyBlockPool(24 * MiB);
    const photos = await Promise.all([1, 2, 3, 4].map(() => sut.take(5.1 * MiB)));
    expect(photos.every((p) => p.length === Math.ceil((5.1 * MiB) / sut.blockSize))).toBe(true);
    expect(sut.blocksFor(30_000)).toBe(1);
    for (const p of photos) sut.give(p);
  });

  it('should reuse freed blocks for the next body whatever its size, and keep no more than the budget', async () => {
    const sut = new BodyBlockPool(4 * MiB, MiB);
    const first = await sut.take(3 * MiB);
    sut.give(first);
    const next = await sut.take(1);
    expect(first).toContain(next[0]);
    sut.give(next);
    const big = await sut.take(9 * MiB); // alone, larger than the budget
    expect(big).toHaveLength(9);
    sut.give(big);
    expect(sut.kept).toBe(4);
  });

  it('should let a body larger than the budget go alone, and stop waiting when aborted', async () => {
    const sut = new BodyBlockPool(4 * MiB, MiB);
    const big = await sut.take(9 * MiB);
    const ac = new AbortController();
    const waiting = sut.take(1 * MiB, ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    sut.give(big);
    expect(sut.inUse).toBe(0);
  });

  it('should copy chunks across block boundaries and give views of exactly the body', () => {
    const blocks = [Buffer.alloc(4), Buffer.alloc(4), Buffer.alloc(4)];
    const body = Buffer.from('abcdefghij');
    copyIntoBlocks(blocks, 4, 0, body.subarray(0, 3));
    copyIntoBlocks(blocks, 4, 3, body.subarray(3, 9));
    copyIntoBlocks(blocks, 4, 9, body.subarray(9));
    const views = blockViews(blocks, 4, body.length);
    expect(views.map((v) => v.length)).toEqual([4, 4, 2]);
    expect(Buffer.concat(views).equals(body)).toBe(true);
  });
});
