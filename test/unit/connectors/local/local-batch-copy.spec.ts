/**
 * Issue #21: a local folder copies a batch of small files from another local folder in one job
 * of its file worker (BatchCopier). Real folders under the system's temporary folder; each test
 * has its own worker thread, so a crash test cannot touch another's.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canCopyBatch } from '../../../../src/connectors/capabilities.js';
import type { BatchCopyItem, BatchCopyResult } from '../../../../src/connectors/connector.js';
import {
  InvalidPathError,
  IsADirectoryError,
  NotFoundError,
  RootMissingError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import { LOCAL_BATCH_MAX_BYTES } from '../../../../src/connectors/local/local.batch-items.js';
import { LocalConnector } from '../../../../src/connectors/local/local.connector.js';
import type { SyncCalls } from '../../../../src/connectors/local/local.durability.js';
import {
  FILE_WORKER_BUFFER_BYTES,
  LocalFileWorker,
  LocalFileWorkerPair,
} from '../../../../src/connectors/local/local.file-worker.js';
import { isPartialName } from '../../../../src/connectors/partial-name.js';
import { observed } from '../../../../src/connectors/request-observer.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytesOf = (i: number, size: number) => Buffer.alloc(size, `file ${i} `);

/** Every name under `dir`, recursively, relative to it. */
async function tree(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true });
  return all.map((p) => p.split('\\').join('/')).sort();
}

describe('local connector batch copy', () => {
  let base: string;
  let srcRoot: string;
  let dstRoot: string;
  let files: LocalFileWorker;
  let synced: string[][];
  let source: LocalConnector;
  let sut: LocalConnector;

  const recordingSync: SyncCalls = {
    syncFileSystems: (folders) => {
      synced.push([...folders]);
      return Promise.resolve(true);
    },
    fsync: () => Promise.resolve(),
  };

  /** `n` files src/d<i%3>/f<i> of 1-40 KiB; the items to copy them to out/d<i%3>/f<i>. */
  async function sources(n: number, mtime = new Date(1_700_000_000_000)): Promise<BatchCopyItem[]> {
    const items: BatchCopyItem[] = [];
    for (let i = 0; i < n; i++) {
      const rel = `src/d${i % 3}/f${i}`;
      const body = bytesOf(i, 1024 * (1 + (i % 40)));
      await mkdir(join(srcRoot, 'src', `d${i % 3}`), { recursive: true });
      await writeFile(join(srcRoot, rel), body);
      items.push({
        sourcePath: rel,
        targetPath: `out/d${i % 3}/f${i}`,
        expectedSize: body.length,
        modifiedAt: mtime,
      });
    }
    return items;
  }

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cbe-batch-'));
    srcRoot = join(base, 'source');
    dstRoot = join(base, 'target');
    await mkdir(srcRoot);
    await mkdir(dstRoot);
    synced = [];
    files = new LocalFileWorker();
    source = new LocalConnector({ root: srcRoot, fsync: true }, undefined, undefined, files);
    sut = new LocalConnector({ root: dstRoot, fsync: true }, undefined, recordingSync, files);
  });

  afterEach(async () => {
    await files.terminate();
    await rm(base, { recursive: true, force: true });
  });

  it('should copy from another local folder only, also through the engine proxy', () => {
    const s3Like = { kind: 's3' } as unknown as LocalConnector;

    expect(
      canCopyBatch(
        observed('local', sut, ['127.0.0.1:9']),
        observed('local', source, ['127.0.0.1:9']),
      ),
    ).toBe(true);
    expect(sut.canCopyBatchFrom(s3Like)).toBe(false);
  });

  it('should store every file with its SHA-256, size and time when all are fine', async () => {
    const items = await sources(30);

    const results = await observed('local', sut, ['127.0.0.1:9']).copyBatch(
      observed('local', source, ['127.0.0.1:9']),
      items,
    );

    expect(results).toHaveLength(30);
    for (const [i, item] of items.entries()) {
      const body = bytesOf(i, item.expectedSize);
      expect(results[i]).toEqual({ ok: true, size: body.length, sha256: sha256(body) });
      const out = join(dstRoot, item.targetPath);
      expect(await readFile(out)).toEqual(body);
      expect((await stat(out)).mtimeMs).toBe(1_700_000_000_000);
      expect((await stat(out)).mode & 0o777).toBe(0o644);
    }
    expect((await tree(dstRoot)).filter(isPartialName)).toEqual([]);
  });

  it('should make the files it stored durable at the next flushWrites', async () => {
    const items = await sources(4);

    await sut.copyBatch(source, items);
    expect(synced).toEqual([]);
    await sut.flushWrites();

    // One syncfs for the three folders written (all on one file system).
    expect(synced).toHaveLength(1);
    expect(synced[0]!.sort()).toEqual(['d0', 'd1', 'd2'].map((d) => join(dstRoot, 'out', d)));
  });

  it('should fail a source that is gone as NotFound, side source, and copy the others', async () => {
    const items = await sources(3);
    await rm(join(srcRoot, items[1]!.sourcePath));

    const results = await sut.copyBatch(source, items);

    expect(results[0]!.ok).toBe(true);
    expect(results[2]!.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, side: 'source' });
    expect((results[1] as { error: Error }).error).toBeInstanceOf(NotFoundError);
    expect(await tree(join(dstRoot, 'out'))).toEqual(['d0', 'd0/f0', 'd2', 'd2/f2']);
  });

  it('should fail a source whose size changed since it was listed, retryable', async () => {
    const items = await sources(2);
    await writeFile(join(srcRoot, items[0]!.sourcePath), 'grown or shrunk');

    const [changed, fine] = await sut.copyBatch(source, items);

    expect(changed).toMatchObject({ ok: false, side: 'source' });
    const error = (changed as { error: Error }).error;
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryable).toBe(true);
    expect(fine!.ok).toBe(true);
    expect(await tree(join(dstRoot, 'out'))).toEqual(['d1', 'd1/f1']);
  });

  it('should refuse a source larger than a batch takes without reading it', async () => {
    const [item] = await sources(1);

    const [result] = await sut.copyBatch(source, [
      { ...item!, expectedSize: LOCAL_BATCH_MAX_BYTES + 1 },
    ]);

    expect(result).toMatchObject({ ok: false, side: 'source' });
    expect((result as { error: Error }).error).toBeInstanceOf(TransientError);
  });

  it("should stream files larger than the worker's buffer, each with its SHA-256 and time", async () => {
    // A buffer's size less one, exactly its size (the first size streamed), and several chunks.
    const sizes = [
      FILE_WORKER_BUFFER_BYTES - 1,
      FILE_WORKER_BUFFER_BYTES,
      3 * FILE_WORKER_BUFFER_BYTES + 17,
    ];
    const mtime = new Date(1_650_000_000_000);
    const items: BatchCopyItem[] = [];
    const bodies: Buffer[] = [];
    for (const [i, size] of sizes.entries()) {
      const body = createHash('sha256').update(String(i)).digest();
      const full = Buffer.alloc(size);
      for (let o = 0; o < size; o += body.length) body.copy(full, o); // no two chunks alike
      full.writeUInt32BE(i, size - 4);
      bodies.push(full);
      await writeFile(join(srcRoot, `big${i}`), full);
      items.push({
        sourcePath: `big${i}`,
        targetPath: `out/big${i}`,
        expectedSize: size,
        modifiedAt: mtime,
      });
    }

    const results = await sut.copyBatch(source, items);

    for (const [i, body] of bodies.entries()) {
      expect(results[i]).toEqual({ ok: true, size: body.length, sha256: sha256(body) });
      expect((await readFile(join(dstRoot, 'out', `big${i}`))).equals(body)).toBe(true);
      expect((await stat(join(dstRoot, 'out', `big${i}`))).mtimeMs).toBe(mtime.getTime());
    }
    expect(await tree(join(dstRoot, 'out'))).toEqual(['big0', 'big1', 'big2']);
  });

  it('should fail a large source whose size changed since it was listed, leaving nothing', async () => {
    const size = 2 * FILE_WORKER_BUFFER_BYTES;
    await writeFile(join(srcRoot, 'grown'), Buffer.alloc(size + 5, 1));

    const [result] = await sut.copyBatch(source, [
      { sourcePath: 'grown', targetPath: 'grown', expectedSize: size },
    ]);

    expect(result).toMatchObject({ ok: false, side: 'source' });
    expect((result as { error: Error }).error).toBeInstanceOf(TransientError);
    expect(await tree(dstRoot)).toEqual([]);
  });

  it('should stop streaming a large file when aborted, leaving no part of it', async () => {
    const size = 48 * 1024 * 1024;
    await writeFile(join(srcRoot, 'huge'), Buffer.alloc(size, 7));
    const abort = new AbortController();

    const call = sut.copyBatch(
      source,
      [{ sourcePath: 'huge', targetPath: 'out/huge', expectedSize: size }],
      { signal: abort.signal },
    );
    setTimeout(() => abort.abort(), 5);

    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await sut.flushWrites(); // waits for the worker's answer
    const left = await tree(dstRoot);
    // Either it finished before the cancel was seen (then whole) or nothing of it is there.
    expect(left.filter(isPartialName)).toEqual([]);
    if (left.includes('out/huge')) expect((await stat(join(dstRoot, 'out/huge'))).size).toBe(size);
  });

  it('should refuse a source link that leads outside its root, as read() does', async () => {
    await writeFile(join(base, 'secret'), 'outside');
    await symlink(join(base, 'secret'), join(srcRoot, 'link'));
    await writeFile(join(srcRoot, 'inside'), 'in the root');
    await symlink(join(srcRoot, 'inside'), join(srcRoot, 'link-in'));

    const [outside, inside] = await sut.copyBatch(source, [
      { sourcePath: 'link', targetPath: 'a', expectedSize: 7 },
      { sourcePath: 'link-in', targetPath: 'b', expectedSize: 11 },
    ]);

    await expect(source.read('link')).rejects.toBeInstanceOf(InvalidPathError);
    expect(outside).toMatchObject({ ok: false, side: 'source' });
    expect((outside as { error: Error }).error).toBeInstanceOf(InvalidPathError);
    // A link that stays inside is followed, as read() follows it.
    expect(inside!.ok).toBe(true);
    expect(await readFile(join(dstRoot, 'b'), 'utf8')).toBe('in the root');
    expect(await tree(dstRoot)).toEqual(['b']);
  });

  it('should refuse a source under a folder link that leads outside its root', async () => {
    await mkdir(join(base, 'elsewhere'));
    await writeFile(join(base, 'elsewhere', 'f'), 'outside');
    await symlink(join(base, 'elsewhere'), join(srcRoot, 'dir'));

    const [result] = await sut.copyBatch(source, [
      { sourcePath: 'dir/f', targetPath: 'f', expectedSize: 7 },
    ]);

    expect((result as { error: Error }).error).toBeInstanceOf(InvalidPathError);
    expect(await tree(dstRoot)).toEqual([]);
  });

  it('should fail an item whose target is a folder, side target, and leave nothing', async () => {
    const items = await sources(2);
    await mkdir(join(dstRoot, items[0]!.targetPath), { recursive: true });

    const [blocked, fine] = await sut.copyBatch(source, items);

    expect(blocked).toMatchObject({ ok: false, side: 'target' });
    expect((blocked as { error: Error }).error).toBeInstanceOf(IsADirectoryError);
    expect(fine!.ok).toBe(true);
    expect(await tree(join(dstRoot, 'out'))).toEqual(['d0', 'd0/f0', 'd1', 'd1/f1']);
  });

  it('should make missing parent folders, and again after they were removed', async () => {
    await writeFile(join(srcRoot, 'a'), 'abc');
    const item = { sourcePath: 'a', targetPath: 'x/y/z/a', expectedSize: 3 };

    expect((await sut.copyBatch(source, [item]))[0]!.ok).toBe(true);
    await rm(join(dstRoot, 'x'), { recursive: true });
    const [again] = await sut.copyBatch(source, [item]);

    expect(again!.ok).toBe(true);
    expect(await readFile(join(dstRoot, 'x/y/z/a'), 'utf8')).toBe('abc');
  });

  it('should fail every item with RootMissing when the target root is gone, and make nothing', async () => {
    const items = await sources(3);
    await sut.copyBatch(source, items.slice(0, 1)); // its folder is now known
    await rm(dstRoot, { recursive: true });

    const results = await sut.copyBatch(source, items);

    for (const r of results) {
      expect(r).toMatchObject({ ok: false, side: 'target' });
      expect((r as { error: Error }).error).toBeInstanceOf(RootMissingError);
    }
    await expect(stat(dstRoot)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('should reject at once and write nothing when aborted before it runs', async () => {
    const items = await sources(3);
    const abort = new AbortController();
    abort.abort();

    await expect(sut.copyBatch(source, items, { signal: abort.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(await tree(dstRoot)).toEqual([]);
  });

  it('should reject at once when aborted while running, leaving only whole files', async () => {
    const items = await sources(300);
    const abort = new AbortController();

    const call = sut.copyBatch(source, items, { signal: abort.signal });
    setImmediate(() => abort.abort());

    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await sut.flushWrites(); // waits for the worker's answer
    const left = (await tree(dstRoot)).filter((p) => /\/f\d+$/.test(p));
    expect((await tree(dstRoot)).filter(isPartialName)).toEqual([]);
    // What is there is whole; the items after the one it was on were not copied.
    expect(left.length).toBeLessThan(300);
    for (const p of left) {
      const i = Number(/f(\d+)$/.exec(p)![1]);
      expect(await readFile(join(dstRoot, p))).toEqual(bytesOf(i, items[i]!.expectedSize));
    }
  });

  it('should fail the call in flight when the worker dies, and use a new one after', async () => {
    const items = await sources(200);

    const call = sut.copyBatch(source, items);
    await files.terminate();

    await expect(call).rejects.toThrow(/local file worker thread exited/);
    const again = await sut.copyBatch(source, items.slice(0, 2));
    expect(again.map((r: BatchCopyResult) => r.ok)).toEqual([true, true]);
  });

  it('should store every file of two batches in flight at once into the same new folders (two threads)', async () => {
    const pair = new LocalFileWorkerPair();
    const from = new LocalConnector({ root: srcRoot, fsync: true }, undefined, undefined, pair);
    const to = new LocalConnector({ root: dstRoot, fsync: true }, undefined, recordingSync, pair);
    try {
      const items = await sources(240);

      const [a, b] = await Promise.all([
        to.copyBatch(from, items.slice(0, 120)),
        to.copyBatch(from, items.slice(120)),
      ]);
      await to.flushWrites();

      const results = [...a, ...b];
      expect(results.every((r) => r.ok)).toBe(true);
      for (const [i, item] of items.entries()) {
        const body = bytesOf(i, item.expectedSize);
        expect(results[i]).toEqual({ ok: true, size: body.length, sha256: sha256(body) });
        expect(await readFile(join(dstRoot, item.targetPath))).toEqual(body);
      }
      expect((await tree(dstRoot)).filter(isPartialName)).toEqual([]);
      expect(synced.length).toBeGreaterThan(0);
    } finally {
      await pair.terminate();
    }
  });

  it('should fail items with invalid paths alone', async () => {
    const [item] = await sources(1);

    const results = await sut.copyBatch(source, [
      { ...item!, sourcePath: '../escape' },
      { ...item!, targetPath: '' },
      item!,
    ]);

    expect(results.map((r) => (r.ok ? 'ok' : r.side))).toEqual(['source', 'target', 'ok']);
  });
});
