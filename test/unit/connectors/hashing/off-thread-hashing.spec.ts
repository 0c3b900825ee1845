import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { createDigest } from '../../../../src/connectors/hashing/digests.js';
import { HASH_KINDS, type HashKind } from '../../../../src/connectors/hashing/hash-kinds.js';
import { HashingTransform } from '../../../../src/connectors/hashing/hashing-transform.js';
import {
  HashWorkerError,
  HashWorkerPool,
  SLOT_BYTES,
  SLOTS,
} from '../../../../src/connectors/hashing/off-thread-hashing.js';
import { patternBytes } from '../../../support/files.js';

/**
 * The hashing worker runs compiled JavaScript; Jest runs the TypeScript sources untranspiled on
 * disk. So the spec transpiles src/connectors/hashing (the worker only imports from there) into a
 * temporary folder and starts its pool on that copy: the same code the build ships.
 */
async function compiledWorker(dir: string): Promise<URL> {
  const src = resolve('src/connectors/hashing');
  for (const f of await readdir(src)) {
    if (!f.endsWith('.ts')) continue;
    const out = ts.transpileModule(await readFile(join(src, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(join(dir, f.replace(/\.ts$/, '.js')), out.outputText);
  }
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  return pathToFileURL(join(dir, 'hash-worker.js'));
}

function inThread(kinds: HashKind[], pieces: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of kinds) {
    const d = createDigest(k);
    for (const p of pieces) d.update(p);
    out[k] = d.digest();
  }
  return out;
}

function piecesOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function offThread(
  pool: HashWorkerPool,
  kinds: HashKind[],
  pieces: Buffer[],
): Promise<Record<string, string>> {
  const d = pool.open(kinds);
  for (const p of pieces) await d.update(p);
  return d.finish();
}

describe('hashing on a worker thread (issue 18: digests off the main thread)', () => {
  let dir: string;
  let pool: HashWorkerPool;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-hashw-'));
    pool = new HashWorkerPool(await compiledWorker(dir), () => 2);
  });

  afterAll(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Protocol briefs: shared/protocols/dropbox.md (content_hash of ASCII 'A' bytes, checked against
  // rclone's) and onedrive.md (quickXorHash of "hello world"); RFC 1321 / FIPS 180 for the rest.
  it.each([
    ['md5', Buffer.from('abc'), '900150983cd24fb0d6963f7d28e17f72'],
    ['sha1', Buffer.from('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    [
      'sha256',
      Buffer.from('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    ],
    ['quickXor', Buffer.from('hello world'), 'aCgDG9jwBhDc4Q1yawMZAAAAAAA='],
    [
      'dropbox',
      Buffer.from('A'),
      '1cd6ef71e6e0ff46ad2609d403dc3fee244417089aa4461245a4e4fe23a55e42',
    ],
    [
      'dropbox',
      Buffer.alloc(4 * 1024 * 1024 + 1, 'A'),
      '8f553da8d00d0bf509d8470e242888be33019c20c0544811f5b2b89e98360b92',
    ],
  ] as const)('should give the known %s vector', async (kind, input, expected) => {
    expect(await offThread(pool, [kind], piecesOf(input, 100_003))).toEqual({ [kind]: expected });
  });

  it.each([1000, 65_536, SLOT_BYTES - 1, SLOT_BYTES + 7, 3 * SLOT_BYTES])(
    'should give exactly the main thread digests of every kind, fed in pieces of %i bytes',
    async (piece) => {
      const data = patternBytes(9 * 1024 * 1024 + 13, 11);
      const pieces = piecesOf(data, piece);
      const kinds = [...HASH_KINDS];

      expect(await offThread(pool, kinds, pieces)).toEqual(inThread(kinds, pieces));
    },
  );

  it('should hash several streams at once, each its own', async () => {
    const files = [1, 2, 3, 4, 5].map((s) => patternBytes(2 * SLOT_BYTES + s * 1000, s));
    const got = await Promise.all(
      files.map((f) => offThread(pool, ['sha256'], piecesOf(f, 70_000))),
    );

    expect(got).toEqual(
      files.map((f) => ({ sha256: createHash('sha256').update(f).digest('hex') })),
    );
  });

  it('should hold the caller once SLOTS slots are in flight (bounded memory)', async () => {
    const d = pool.open(['sha256']);
    const slot = Buffer.alloc(SLOT_BYTES, 1);
    // Synchronously: the worker cannot have freed anything yet.
    const answers = Array.from({ length: SLOTS + 1 }, () => d.update(slot));

    expect(answers.slice(0, SLOTS)).toEqual(Array(SLOTS).fill(undefined));
    expect(answers[SLOTS]).toBeInstanceOf(Promise);
    await answers[SLOTS];
    const expected = createHash('sha256');
    for (let i = 0; i <= SLOTS; i++) expected.update(slot);
    expect(await d.finish()).toEqual({ sha256: expected.digest('hex') });
  });

  it('should hash a large file on the worker inside a HashingTransform, same bytes out', async () => {
    const data = patternBytes(3 * SLOT_BYTES + 5, 3);
    const hashing = new HashingTransform(['sha256', 'md5'], undefined, {
      expectedSize: Number.MAX_SAFE_INTEGER,
      pool,
    });
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(piecesOf(data, 50_000)),
      hashing,
      new Writable({
        write: (c: Buffer, _e, cb) => {
          out.push(c);
          cb();
        },
      }),
    );

    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(hashing.bytes).toBe(data.length);
    expect(hashing.hashes).toEqual(inThread(['sha256', 'md5'], [data]));
  });

  it('should fail the streams of a worker that died, not hang them', async () => {
    const lone = new HashWorkerPool(await compiledWorker(dir), () => 1);
    const d = lone.open(['sha256']);
    void d.update(Buffer.alloc(10));
    await lone.close();

    await expect(d.finish()).rejects.toBeInstanceOf(HashWorkerError);
  });
});
