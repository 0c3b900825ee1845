import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hashKindsToCompute,
  SourceHashMismatchError,
  transferFile,
} from '../../../src/backup/transfer/transfer-file.js';
import {
  IntegrityError,
  NotFoundError,
  TargetOfflineError,
  TransientError,
} from '../../../src/connectors/connector.errors.js';
import { DROPBOX_CAPABILITIES } from '../../../src/connectors/dropbox/dropbox.connector.js';
import type { Connector } from '../../../src/connectors/connector.js';
import type { HashKind, HashSet } from '../../../src/connectors/hashing/hash-kinds.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import { ONEDRIVE_CAPABILITIES } from '../../../src/connectors/onedrive/onedrive.connector.js';
import { FaultyConnector } from '../../support/faulty-connector.js';
import { patternBytes, sha256 } from '../../support/files.js';

describe('transferFile', () => {
  let dir: string;
  let source: LocalConnector;
  let target: LocalConnector;
  const data = patternBytes(300_000, 3);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-xfer-'));
    source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new LocalConnector({ root: join(dir, 'dst'), fsync: false });
    // The connector never creates its root (issue 18): the folders exist, as a mounted drive does.
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'dst'));
    await writeFile(join(dir, 'src', 'a.bin'), data);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('should copy the bytes and report their size and SHA-256', async () => {
    let progress = 0;
    const res = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
      onBytes: (n) => (progress += n),
    });
    expect(res.size).toBe(data.length);
    expect(res.sha256).toBe(sha256(data));
    expect(progress).toBe(data.length);
    expect(sha256(Buffer.concat(await (await target.read('v1/a.bin')).toArray()))).toBe(
      sha256(data),
    );
  });

  it('should give the target the digests of the body, known once the body ended (WriteMeta.digests)', async () => {
    const seen: Array<HashSet | undefined> = [];
    const recording: Connector = {
      kind: target.kind,
      capabilities: target.capabilities,
      list: (d, o) => target.list(d, o),
      stat: (p) => target.stat(p),
      read: (p, o) => target.read(p, o),
      mkdir: (p, o) => target.mkdir(p, o),
      remove: (p) => target.remove(p),
      write: async (path, body, meta = {}) => {
        seen.push(meta.digests?.());
        const bytes = Buffer.concat(await body.toArray());
        seen.push(meta.digests?.());
        return target.write(path, Readable.from([bytes]), { ...meta, digests: undefined });
      },
    };
    const res = await transferFile({
      source,
      sourcePath: 'a.bin',
      target: recording,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
    });
    expect(seen[0]).toBeUndefined();
    expect(seen[1]?.sha256).toBe(sha256(data));
    expect(res.sha256).toBe(sha256(data));
  });

  it('should fail and leave no file when the source connection is cut', async () => {
    const cutting = new FaultyConnector(source, (op) => (op === 'read' ? 'cut' : undefined));
    await expect(
      transferFile({
        source: cutting,
        sourcePath: 'a.bin',
        target,
        targetPath: 'v1/a.bin',
        expectedSize: data.length,
      }),
    ).rejects.toThrow('socket hang up');
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should refuse a silently truncated source with a retryable error and remove the copy', async () => {
    const truncating = new FaultyConnector(source, (op) =>
      op === 'read' ? 'truncate' : undefined,
    );
    const err = await transferFile({
      source: truncating,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain(
      `sent ${data.length / 2} bytes but listed ${data.length}`,
    );
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should detect a target that stored different bytes, and remove them', async () => {
    const corrupting = new FaultyConnector(target, (op) =>
      op === 'write' ? 'corrupt' : undefined,
    );
    const err = await transferFile({
      source,
      sourcePath: 'a.bin',
      target: corrupting,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain('sha256 hash differs');
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should compute SHA-256 and at most one more kind, the cheapest the target reports', () => {
    const kinds = (hashes: HashKind[]) => hashKindsToCompute({ hashes });
    expect(kinds([])).toEqual(['sha256']);
    expect(kinds(['md5', 'sha1', 'sha256'])).toEqual(['sha256']);
    expect(kinds(['quickXor'])).toEqual(['sha256', 'quickXor']);
    expect(kinds(['dropbox'])).toEqual(['sha256', 'dropbox']);
    expect(kinds(['quickXor', 'md5'])).toEqual(['sha256', 'md5']);
  });

  it('should not compute again the kind the target checks in write() itself', () => {
    expect(hashKindsToCompute({ hashes: ['quickXor'], verifiesWrites: 'quickXor' })).toEqual([
      'sha256',
    ]);
    expect(hashKindsToCompute({ hashes: ['dropbox'], verifiesWrites: 'dropbox' })).toEqual([
      'sha256',
    ]);
    // A claim about a kind the target does not report proves nothing about the stored copy.
    expect(hashKindsToCompute({ hashes: ['md5'], verifiesWrites: 'quickXor' })).toEqual([
      'sha256',
      'md5',
    ]);
  });

  it('should declare verifiesWrites only on connectors whose write() checks that kind', () => {
    expect(ONEDRIVE_CAPABILITIES.verifiesWrites).toBe('quickXor');
    expect(DROPBOX_CAPABILITIES.verifiesWrites).toBe('dropbox');
  });
});

describe('transferFile: source hashes, read-back and progress (issue 18)', () => {
  let dir: string;
  let source: LocalConnector;
  let target: LocalConnector;
  const data = patternBytes(1_000_000, 5);
  const md5 = createHash('md5').update(data).digest('hex');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-xfer-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'dst'));
    source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new LocalConnector({ root: join(dir, 'dst'), fsync: false });
    await writeFile(join(dir, 'src', 'a.bin'), data);
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('should refuse bytes that do not match the hash the source reports, retryably, keeping nothing', async () => {
    const err = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
      sourceHashes: { md5: '0'.repeat(32) },
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SourceHashMismatchError);
    expect((err as SourceHashMismatchError).retryable).toBe(true);
    expect((err as Error).message).toContain("source's own md5 hash");
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should store a file whose bytes match the hash the source reports, computing that kind in flight', async () => {
    const res = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      sourceHashes: { md5 },
    });

    expect(res.computed).toEqual({ md5, sha256: sha256(data) });
  });

  it('should compute every kind the source reports, besides SHA-256 and the target check', () => {
    expect(hashKindsToCompute({ hashes: [] }, { sha256: 'x', md5: 'y' })).toEqual([
      'sha256',
      'md5',
    ]);
    expect(hashKindsToCompute({ hashes: ['md5'] }, { md5: 'y' })).toEqual(['sha256', 'md5']);
    expect(hashKindsToCompute({ hashes: [] }, { quickXor: 'q' })).toEqual(['sha256', 'quickXor']);
    expect(hashKindsToCompute({ hashes: [] }, { dropbox: 'd', md5: 'y' })).toEqual([
      'sha256',
      'md5',
      'dropbox',
    ]);
    // Google Drive as a source: all three of its checksums.
    expect(hashKindsToCompute({ hashes: [] }, { md5: 'a', sha1: 'b', sha256: 'c' })).toEqual([
      'sha256',
      'md5',
      'sha1',
    ]);
    // OneDrive as a source into Dropbox (whose write() checks its own content hash).
    expect(
      hashKindsToCompute(
        { hashes: ['dropbox'], verifiesWrites: 'dropbox' },
        { quickXor: 'q', sha1: 's' },
      ),
    ).toEqual(['sha256', 'sha1', 'quickXor']);
  });

  // Before issue 18's "every hash" the engine compared ONE reported kind (SHA-256 here, computed
  // anyway) and stored these files as good.
  it.each([
    ['md5 right, sha1 wrong', 'sha1', { md5: true, sha1: false, sha256: true }],
    ['sha1 right, md5 wrong', 'md5', { md5: false, sha1: true, sha256: true }],
    ['md5 and sha1 right, sha256 wrong', 'sha256', { md5: true, sha1: true, sha256: false }],
  ] as const)('should refuse a file whose source reports %s', async (_name, bad, right) => {
    const truth = (k: 'md5' | 'sha1' | 'sha256') => createHash(k).update(data).digest('hex');
    const lie = (k: 'md5' | 'sha1' | 'sha256') => createHash(k).update('other').digest('hex');
    const sourceHashes = Object.fromEntries(
      (['md5', 'sha1', 'sha256'] as const).map((k) => [k, right[k] ? truth(k) : lie(k)]),
    );

    const err = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      expectedSize: data.length,
      sourceHashes,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SourceHashMismatchError);
    expect((err as Error).message).toContain(`source's own ${bad} hash`);
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should store a file when every kind the source reports matches', async () => {
    const truth = (k: 'md5' | 'sha1' | 'sha256') => createHash(k).update(data).digest('hex');
    const res = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      sourceHashes: { md5: truth('md5'), sha1: truth('sha1'), sha256: truth('sha256') },
    });

    expect(res.computed).toEqual({ md5: truth('md5'), sha1: truth('sha1'), sha256: sha256(data) });
  });

  it('should read a hashless target back when asked, and remove a copy that reads back different', async () => {
    // Stores flipped bytes but reports no hash, as a plain folder or WebDAV share would.
    const corrupting = new FaultyConnector(target, (op) =>
      op === 'write' ? 'corrupt' : undefined,
    );
    const hashless: typeof corrupting = Object.assign(Object.create(corrupting), {
      write: async (...args: Parameters<LocalConnector['write']>) => ({
        ...(await corrupting.write(...args)),
        hashes: {},
      }),
    });

    const err = await transferFile({
      source,
      sourcePath: 'a.bin',
      target: hashless,
      targetPath: 'v1/a.bin',
      readBack: true,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain('read back');
    await expect(target.stat('v1/a.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should tell progress inside a file at most every 250 ms of its clock, and once at the end', async () => {
    let t = 0;
    const seen: number[] = [];

    await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
      // Each chunk (256 KiB from a local read) takes 100 ms of this clock.
      now: () => (t += 100),
      onProgress: (n) => seen.push(n),
    });

    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[seen.length - 1]).toBe(data.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBeLessThan(Math.ceil(data.length / (256 * 1024)) + 1);
  });

  it('should say the target is offline when its root vanished, not fail the file', async () => {
    await rm(join(dir, 'dst'), { recursive: true });

    const err = await transferFile({
      source,
      sourcePath: 'a.bin',
      target,
      targetPath: 'v1/a.bin',
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(TargetOfflineError);
  });
});
