import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { hasChangeFeed, hasServerSideCopy } from '../../src/connectors/capabilities.js';
import type { Change, Connector, Entry } from '../../src/connectors/connector.js';
import {
  ConnectorError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
} from '../../src/connectors/connector.errors.js';
import { canComputeHash, createDigest } from '../../src/connectors/hashing/digests.js';
import type { HashKind } from '../../src/connectors/hashing/hash-kinds.js';

/** Parts of the suite a connector may opt out of, each with the reason printed in the test name. */
export type ConformanceFeature =
  'write' | 'rangedReads' | 'unknownSizeWrites' | 'changeFeed' | 'serverSideCopy' | 'faults';

export interface ConformanceFaults {
  /** Make the provider answer the next request with a rate limit (429 + Retry-After). */
  rateLimitNext(): Promise<void>;
  /** Make the provider reject the current access token as expired. */
  expireToken(): Promise<void>;
}

export interface ConformanceHandle {
  connector: Connector;
  faults?: ConformanceFaults;
  /** Stops emulators, removes temp folders. */
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  create(): Promise<ConformanceHandle>;
  unsupported?: Partial<Record<ConformanceFeature, string>>;
  /** Overrides capabilities for sizing the test files. */
  limits?: { uploadChunkSize?: number; listPageSize?: number };
}

/** Names that break naive URL, header or path handling. */
export const ODD_NAMES = [
  'with space.txt',
  'hash#tag.txt',
  'percent%20encoded%.txt',
  'été ☀ 2024.jpg',
  '日本語のファイル.heic',
  'emoji 😀 face.png',
  'quote\'s "double".txt',
  'amp&plus+eq=semi;.txt',
  'brackets [1] (2) {3}.txt',
  '~tilde,comma@at!.txt',
  'trailing.dots..txt',
  'UPPER lower.TXT',
];

function bytesOf(n: number, seed = 1): Buffer {
  // Deterministic, not compressible, not all zeros: a bug that drops or repeats a chunk shows.
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A stream that yields `data` in pieces of `piece` bytes, with no size known up front. */
function streamOf(data: Buffer, piece = 64 * 1024): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  }
  return Readable.from(gen(), { objectMode: false });
}

async function readAll(
  c: Connector,
  path: string,
  range?: { offset: number; length?: number },
): Promise<Buffer> {
  return buffer(await c.read(path, range ? { range } : {}));
}

async function listAll(c: Connector, dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of c.list(dir)) out.push(e);
  return out;
}

function expectHashesMatch(entry: Entry, data: Buffer): void {
  for (const [kind, value] of Object.entries(entry.hashes) as Array<[HashKind, string]>) {
    if (!canComputeHash(kind)) continue;
    const d = createDigest(kind);
    d.update(data);
    expect({ kind, value: value.toLowerCase() }).toEqual({ kind, value: d.digest().toLowerCase() });
  }
}

/** The shared suite every connector passes. Nested: mkdir wraps write, which wraps the rest. */
export function describeConnectorConformance(name: string, options: ConformanceOptions): void {
  const unsupported = options.unsupported ?? {};
  const itIf = (feature: ConformanceFeature, title: string, fn: () => Promise<void>) =>
    unsupported[feature]
      ? it.skip(`${title} (unsupported: ${unsupported[feature]})`, fn)
      : it(title, fn);

  describe(`connector conformance: ${name}`, () => {
    let handle: ConformanceHandle;
    let c: Connector;
    let scratch: string;
    const p = (...parts: string[]) => [scratch, ...parts].join('/');

    beforeAll(async () => {
      handle = await options.create();
      c = handle.connector;
      scratch = `cbe-conformance-${randomBytes(4).toString('hex')}`;
    });

    afterAll(async () => {
      if (!handle) return;
      if (!unsupported.write) await c.remove(scratch).catch(() => undefined);
      await c.close?.();
      await handle.cleanup();
    });

    const chunkSize = () =>
      options.limits?.uploadChunkSize ?? c.capabilities.uploadChunkSize ?? 1024 * 1024;
    const pageSize = () => options.limits?.listPageSize ?? c.capabilities.listPageSize ?? 100;

    describe('missing paths', () => {
      it('should throw NotFoundError when stat-ing a missing path', async () => {
        await expect(
          c.stat(`cbe-missing-${randomBytes(4).toString('hex')}/x.txt`),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
      it('should throw NotFoundError when reading a missing file', async () => {
        await expect(
          c.read(`cbe-missing-${randomBytes(4).toString('hex')}.bin`),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
      it('should throw NotFoundError when listing a missing folder', async () => {
        await expect(
          listAll(c, `cbe-missing-${randomBytes(4).toString('hex')}`),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('mkdir', () => {
      itIf('write', 'should create nested folders and succeed again when they exist', async () => {
        const e = await c.mkdir(p('a', 'b', 'c'));
        expect(e.kind).toBe('folder');
        await expect(c.mkdir(p('a', 'b', 'c'))).resolves.toMatchObject({ kind: 'folder' });
        expect((await c.stat(p('a', 'b'))).kind).toBe('folder');
        const names = (await listAll(c, p('a'))).map((x) => x.name);
        expect(names).toEqual(['b']);
      });

      itIf('write', 'should throw NotFoundError when removing a missing path', async () => {
        await expect(c.remove(p('never-written.txt'))).rejects.toBeInstanceOf(NotFoundError);
      });

      describe('write files', () => {
        const small = bytesOf(1000, 7);

        itIf(
          'write',
          'should store a small file and read back the same bytes, size and hashes',
          async () => {
            const w = await c.write(p('small.bin'), Readable.from([small]), { size: small.length });
            expect(w).toMatchObject({ kind: 'file', size: small.length, name: 'small.bin' });
            expectHashesMatch(w, small);
            const s = await c.stat(p('small.bin'));
            expect(s).toMatchObject({ kind: 'file', size: small.length });
            expectHashesMatch(s, small);
            expect(sha256(await readAll(c, p('small.bin')))).toBe(sha256(small));
          },
        );

        itIf('write', 'should store and read a zero-byte file', async () => {
          const w = await c.write(p('empty.txt'), Readable.from([]), { size: 0 });
          expect(w.size).toBe(0);
          expectHashesMatch(w, Buffer.alloc(0));
          expect((await c.stat(p('empty.txt'))).size).toBe(0);
          expect((await readAll(c, p('empty.txt'))).length).toBe(0);
        });

        itIf('write', 'should store a file larger than the upload chunk size intact', async () => {
          const big = bytesOf(chunkSize() * 2 + 12_345, 3);
          const w = await c.write(p('big.bin'), streamOf(big), { size: big.length });
          expect(w.size).toBe(big.length);
          expectHashesMatch(w, big);
          expect(sha256(await readAll(c, p('big.bin')))).toBe(sha256(big));
        });

        itIf(
          'unknownSizeWrites',
          'should store a stream whose size is not known up front',
          async () => {
            const data = bytesOf(chunkSize() + 777, 5);
            const w = await c.write(p('unknown-size.bin'), streamOf(data, 10_000));
            expect(w.size).toBe(data.length);
            expectHashesMatch(w, data);
            expect(sha256(await readAll(c, p('unknown-size.bin')))).toBe(sha256(data));
          },
        );

        itIf(
          'write',
          'should keep unicode, spaces, #, % and other odd characters in names',
          async () => {
            await c.mkdir(p('odd names ##%'));
            for (const [i, n] of ODD_NAMES.entries()) {
              const data = Buffer.from(`content of ${n} ${i}`);
              await c.write(p('odd names ##%', n), Readable.from([data]), { size: data.length });
            }
            const listed = await listAll(c, p('odd names ##%'));
            expect(listed.map((e) => e.name).sort()).toEqual([...ODD_NAMES].sort());
            for (const e of listed) expect(e.path).toBe(p('odd names ##%', e.name));
            for (const [i, n] of ODD_NAMES.entries()) {
              expect((await readAll(c, p('odd names ##%', n))).toString()).toBe(
                `content of ${n} ${i}`,
              );
              expect((await c.stat(p('odd names ##%', n))).name).toBe(n);
            }
          },
        );

        itIf('write', 'should replace the content when writing over an existing file', async () => {
          await c.write(p('over.txt'), Readable.from([Buffer.from('first version, longer')]), {
            size: 21,
          });
          const w = await c.write(p('over.txt'), Readable.from([Buffer.from('second')]), {
            size: 6,
          });
          expect(w.size).toBe(6);
          expect((await readAll(c, p('over.txt'))).toString()).toBe('second');
          expect((await listAll(c, scratch)).filter((e) => e.name === 'over.txt')).toHaveLength(1);
        });

        itIf(
          'write',
          'should create missing parent folders when writing a nested file',
          async () => {
            await c.write(p('n1', 'n2', 'n3', 'deep.txt'), Readable.from([Buffer.from('deep')]), {
              size: 4,
            });
            expect((await listAll(c, p('n1'))).map((e) => [e.name, e.kind])).toEqual([
              ['n2', 'folder'],
            ]);
            expect((await listAll(c, p('n1', 'n2', 'n3'))).map((e) => e.path)).toEqual([
              p('n1', 'n2', 'n3', 'deep.txt'),
            ]);
          },
        );

        itIf(
          'write',
          'should list every entry exactly once when a folder spans several pages',
          async () => {
            const count = pageSize() + 3;
            await c.mkdir(p('paged'));
            const queue = Array.from(
              { length: count },
              (_, i) => `f${String(i).padStart(5, '0')}.txt`,
            );
            const workers = Array.from({ length: 8 }, async () => {
              for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
                await c.write(p('paged', n), Readable.from([Buffer.from(n)]), { size: n.length });
              }
            });
            await Promise.all(workers);
            const names = (await listAll(c, p('paged'))).map((e) => e.name);
            expect(names).toHaveLength(count);
            expect(new Set(names).size).toBe(count);
          },
        );

        itIf('write', 'should remove a file, and a folder with its content', async () => {
          await c.write(p('rm', 'x', 'a.txt'), Readable.from([Buffer.from('a')]), { size: 1 });
          await c.write(p('rm', 'b.txt'), Readable.from([Buffer.from('b')]), { size: 1 });
          await c.remove(p('rm', 'b.txt'));
          await expect(c.stat(p('rm', 'b.txt'))).rejects.toBeInstanceOf(NotFoundError);
          await c.remove(p('rm'));
          await expect(c.stat(p('rm'))).rejects.toBeInstanceOf(NotFoundError);
          await expect(c.stat(p('rm', 'x', 'a.txt'))).rejects.toBeInstanceOf(NotFoundError);
        });

        itIf(
          'write',
          'should throw IsADirectoryError when reading a folder, NotADirectoryError when listing a file',
          async () => {
            await c.mkdir(p('kinds', 'folder'));
            await c.write(p('kinds', 'file.txt'), Readable.from([Buffer.from('f')]), { size: 1 });
            await expect(c.read(p('kinds', 'folder'))).rejects.toBeInstanceOf(IsADirectoryError);
            await expect(listAll(c, p('kinds', 'file.txt'))).rejects.toBeInstanceOf(
              NotADirectoryError,
            );
          },
        );

        itIf(
          'write',
          'should leave no file behind when the source stream fails mid-upload',
          async () => {
            const data = bytesOf(chunkSize() + 5000, 9);
            async function* broken(): AsyncGenerator<Buffer> {
              yield data.subarray(0, chunkSize());
              throw new Error('source connection lost');
            }
            await expect(
              c.write(p('interrupted.bin'), Readable.from(broken()), { size: data.length }),
            ).rejects.toThrow();
            await expect(c.stat(p('interrupted.bin'))).rejects.toBeInstanceOf(NotFoundError);
            const names = (await listAll(c, scratch)).map((e) => e.name);
            expect(names.filter((n) => n.includes('interrupted'))).toEqual([]);
          },
        );

        describe('ranged reads', () => {
          const data = bytesOf(100_000, 11);
          beforeAll(async () => {
            if (unsupported.write || unsupported.rangedReads) return;
            await c.write(p('ranged.bin'), Readable.from([data]), { size: data.length });
          });

          itIf('rangedReads', 'should return exactly the requested bytes', async () => {
            expect(
              (await readAll(c, p('ranged.bin'), { offset: 0, length: 10 })).equals(
                data.subarray(0, 10),
              ),
            ).toBe(true);
            expect(
              (await readAll(c, p('ranged.bin'), { offset: 4321, length: 5000 })).equals(
                data.subarray(4321, 9321),
              ),
            ).toBe(true);
            expect(
              (await readAll(c, p('ranged.bin'), { offset: 99_000 })).equals(data.subarray(99_000)),
            ).toBe(true);
          });

          itIf('rangedReads', 'should clamp a range that runs past the end', async () => {
            expect(
              (await readAll(c, p('ranged.bin'), { offset: 99_990, length: 1000 })).equals(
                data.subarray(99_990),
              ),
            ).toBe(true);
          });

          itIf(
            'rangedReads',
            'should throw InvalidRangeError when the range starts past the end',
            async () => {
              await expect(
                readAll(c, p('ranged.bin'), { offset: 100_001, length: 5 }),
              ).rejects.toBeInstanceOf(InvalidRangeError);
            },
          );
        });

        itIf(
          'changeFeed',
          'should report a written and a removed file through the change feed',
          async () => {
            if (!hasChangeFeed(c))
              throw new Error('capabilities.changeFeed is set but ChangeFeed is not implemented');
            await c.mkdir(p('feed'));
            const cursor = await c.currentCursor('');
            await c.write(p('feed', 'new.txt'), Readable.from([Buffer.from('new')]), { size: 3 });
            const seen: Change[] = [];
            let cur = cursor;
            for (let more = true; more;) {
              const page = await c.changes('', cur);
              seen.push(...page.changes);
              cur = page.cursor;
              more = page.hasMore;
            }
            expect(
              seen.some((ch) => ch.type === 'upsert' && ch.entry.path === p('feed', 'new.txt')),
            ).toBe(true);
            await c.remove(p('feed', 'new.txt'));
            const after = await c.changes('', cur);
            expect(after.changes.some((ch) => ch.type === 'delete')).toBe(true);
          },
        );

        itIf('serverSideCopy', 'should copy a file inside the account', async () => {
          if (!hasServerSideCopy(c))
            throw new Error('capabilities.serverSideCopy is set but copy() is missing');
          await c.write(p('copy-src.txt'), Readable.from([Buffer.from('copy me')]), { size: 7 });
          await c.copy(p('copy-src.txt'), p('copy-dst.txt'));
          expect((await readAll(c, p('copy-dst.txt'))).toString()).toBe('copy me');
        });

        itIf(
          'faults',
          'should ride out a rate-limit answer and an expired access token',
          async () => {
            const faults = handle.faults;
            if (!faults)
              throw new Error('faults are not declared unsupported but the handle has none');
            await c.write(p('fault.txt'), Readable.from([Buffer.from('fault')]), { size: 5 });
            await faults.rateLimitNext();
            expect((await c.stat(p('fault.txt'))).size).toBe(5);
            await faults.expireToken();
            expect((await readAll(c, p('fault.txt'))).toString()).toBe('fault');
          },
        );
      });
    });

    it('should raise only typed connector errors for a missing path', async () => {
      const err = await c.stat('cbe-definitely-missing/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
    });
  });
}
