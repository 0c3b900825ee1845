import { ManifestLinesCache } from '../../../src/versions/manifest-lines-cache.js';

describe('ManifestLinesCache', () => {
  const mark = { count: 3, maxId: 30 };

  it('should give the lines back only for the same count and highest id of current records', () => {
    const sut = new ManifestLinesCache(1000);
    sut.set('t1', mark, [Buffer.from('a\nb\nc\n')]);

    expect(sut.get('t1', { count: 3, maxId: 31 })).toBeUndefined();
    sut.set('t1', mark, [Buffer.from('a\nb\nc\n')]);
    expect(sut.get('t1', { count: 2, maxId: 30 })).toBeUndefined();
    sut.set('t1', mark, [Buffer.from('a\nb\nc\n')]);
    expect(sut.get('t1', { ...mark })?.toString()).toBe('a\nb\nc\n');
    expect(sut.get('t2', mark)).toBeUndefined();
  });

  it('should drop the lines of a task whose records moved on, freeing their bytes', () => {
    const sut = new ManifestLinesCache(1000);
    sut.set('t1', mark, [Buffer.alloc(100)]);

    sut.get('t1', { count: 4, maxId: 40 });

    expect(sut.size).toBe(0);
    expect(sut.get('t1', mark)).toBeUndefined();
  });

  it('should keep at most its byte budget, dropping the least recently used task first', () => {
    const sut = new ManifestLinesCache(250);
    sut.set('a', mark, [Buffer.alloc(100)]);
    sut.set('b', mark, [Buffer.alloc(100)]);
    sut.get('a', mark); // b is now the least recently used

    sut.set('c', mark, [Buffer.alloc(100)]);

    expect(sut.size).toBe(200);
    expect(sut.get('b', mark)).toBeUndefined();
    expect(sut.get('a', mark)).toBeDefined();
    expect(sut.get('c', mark)).toBeDefined();
    sut.set('huge', mark, [Buffer.alloc(251)]);
    expect(sut.get('huge', mark)).toBeUndefined();
    expect(sut.size).toBe(200);
  });

  it('should keep one copy of the pages exactly their size, not the larger buffers they are views of', () => {
    const sut = new ManifestLinesCache(1000);
    const big = Buffer.alloc(4096, 'x');

    sut.set('t1', mark, [big.subarray(0, 10), Buffer.from('ab'), big.subarray(100, 103)]);
    big.fill('y');

    const kept = sut.get('t1', mark)!;
    expect(kept.toString()).toBe('xxxxxxxxxxabxxx');
    expect(kept.buffer.byteLength).toBe(15);
    expect(sut.size).toBe(15);
  });
});
