/**
 * The local connector's confinement (issue #19) and what it costs per file (issue #21): links that
 * leave the account's folder are neither read nor written through, while a small file costs no
 * `realpath` of its own (the checked folder is remembered for a moment).
 *
 * `realpath` is counted by wrapping it on the `fs.promises` object before the connector's module
 * is loaded (no static import of node:fs/promises here, so the connector sees the wrapper).
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidPathError } from '../../../../src/connectors/connector.errors.js';

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
const fsp = fs.promises;
let realpathCalls = 0;
const originalRealpath = fsp.realpath;
(fsp as { realpath: unknown }).realpath = (...args: Parameters<typeof originalRealpath>) => {
  realpathCalls++;
  return originalRealpath(...args);
};

const { LocalConnector } = await import('../../../../src/connectors/local/local.connector.js');

const body = (s = 'bytes') => Readable.from([Buffer.from(s)]);
const drain = async (r: Readable) => {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
};

describe('local connector confinement', () => {
  let base: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'cbe-confine-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    await fsp.mkdir(root);
    await fsp.mkdir(outside);
    await fsp.writeFile(join(outside, 'secret.txt'), 'secret');
  });
  afterEach(() => fsp.rm(base, { recursive: true, force: true }));

  it('should resolve no real path per small file written or read in known folders', async () => {
    const c = new LocalConnector({ root, fsync: false });
    await c.write('v1/d0/first.bin', body(), { size: 5 });
    await drain(await c.read('v1/d0/first.bin'));
    realpathCalls = 0;
    for (let i = 0; i < 50; i++) {
      await c.write(`v1/d0/f${i}.bin`, body(), { size: 5, modifiedAt: new Date(1e12) });
      expect(await drain(await c.read(`v1/d0/f${i}.bin`))).toBe('bytes');
    }
    // One folder re-checked now and then (the cache lasts a second), never one per file.
    expect(realpathCalls).toBeLessThan(10);
    expect((await fsp.stat(join(root, 'v1', 'd0', 'f7.bin'))).mtimeMs).toBe(1e12);
  });

  it('should neither read, stat nor list through a link that leaves the folder', async () => {
    await fsp.writeFile(join(root, 'ok.txt'), 'ok');
    await fsp.symlink(join(outside, 'secret.txt'), join(root, 'file-link'));
    await fsp.symlink(outside, join(root, 'dir-link'));
    await fsp.symlink(join(root, 'ok.txt'), join(root, 'inside-link'));
    const c = new LocalConnector({ root, fsync: false });
    await expect(c.read('file-link')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(c.read('dir-link/secret.txt')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(c.stat('file-link')).rejects.toBeInstanceOf(InvalidPathError);
    const names: string[] = [];
    for await (const e of c.list('')) names.push(e.name);
    expect(names.sort()).toEqual(['inside-link', 'ok.txt']);
    // A link that stays inside is followed.
    expect(await drain(await c.read('inside-link'))).toBe('ok');
  });

  it('should write nothing through a folder link that leaves the folder, nor make folders there', async () => {
    await fsp.symlink(outside, join(root, 'escape'));
    const c = new LocalConnector({ root, fsync: true });
    await expect(c.write('escape/x.txt', body())).rejects.toBeInstanceOf(InvalidPathError);
    await expect(c.write('escape/new/deeper/x.txt', body())).rejects.toBeInstanceOf(
      InvalidPathError,
    );
    await expect(c.mkdir('escape/made')).rejects.toBeInstanceOf(InvalidPathError);
    expect((await fsp.readdir(outside)).sort()).toEqual(['secret.txt']);
  });

  it('should refuse a folder swapped for an outside link once its check has expired', async () => {
    const c = new LocalConnector({ root, fsync: false });
    await c.write('v1/d0/a.txt', body(), { size: 5 });
    await fsp.rm(join(root, 'v1', 'd0'), { recursive: true });
    await fsp.symlink(outside, join(root, 'v1', 'd0'));
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(c.write('v1/d0/b.txt', body(), { size: 5 })).rejects.toBeInstanceOf(
      InvalidPathError,
    );
    await expect(c.read('v1/d0/secret.txt')).rejects.toBeInstanceOf(InvalidPathError);
    expect((await fsp.readdir(outside)).sort()).toEqual(['secret.txt']);
  });

  it('should replace a link at the file name itself, never write where it points', async () => {
    await fsp.mkdir(join(root, 'v1'));
    await fsp.symlink(join(outside, 'secret.txt'), join(root, 'v1', 'a.txt'));
    const c = new LocalConnector({ root, fsync: true });
    await c.write('v1/a.txt', body('new'), { size: 3 });
    expect(await fsp.readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await fsp.readFile(join(root, 'v1', 'a.txt'), 'utf8')).toBe('new');
    expect((await fsp.lstat(join(root, 'v1', 'a.txt'))).isSymbolicLink()).toBe(false);
  });
});
