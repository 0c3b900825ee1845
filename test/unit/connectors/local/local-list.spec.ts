/**
 * Issue #21 (the no-change run): listing a local folder is one job of the file worker per page
 * of entries (readdir and an lstat per entry on its thread), where it was a trip through libuv's
 * thread pool per entry. The entries must be exactly those the old listing yielded: the oracle
 * below is the old code (opendir, stat per entry, links kept only inside the root).
 */
import { mkdir, mkdtemp, opendir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { jest } from '@jest/globals';
import type { Entry } from '../../../../src/connectors/connector.js';
import { InvalidPathError, NotFoundError } from '../../../../src/connectors/connector.errors.js';
import { LocalConnector } from '../../../../src/connectors/local/local.connector.js';
import { LocalFileWorker } from '../../../../src/connectors/local/local.file-worker.js';
import { isPartialName } from '../../../../src/connectors/partial-name.js';

/** The listing as main's connector made it before the file worker (a59c4e0 and earlier). */
async function oldListing(root: string, rel: string): Promise<Entry[]> {
  const realRoot = await realpath(root);
  const abs = rel === '' ? root : join(root, ...rel.split('/'));
  const out: Entry[] = [];
  for await (const d of await opendir(abs)) {
    if (isPartialName(d.name) || d.name === '.cbe-volume') continue;
    const p = join(abs, d.name);
    let st;
    try {
      st = await stat(p);
    } catch {
      continue; // dangling link
    }
    if (!st.isFile() && !st.isDirectory()) continue;
    if (d.isSymbolicLink()) {
      const real = await realpath(p);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) continue;
    }
    const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
    out.push({
      path: childRel,
      name: d.name,
      kind: st.isDirectory() ? 'folder' : 'file',
      size: st.isDirectory() ? undefined : st.size,
      modifiedAt: st.mtime,
      hashes: {},
    });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function listing(c: LocalConnector, rel: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of c.list(rel)) out.push(e);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

describe('local connector listing', () => {
  let base: string;
  let root: string;
  let files: LocalFileWorker;
  let sut: LocalConnector;
  let socket: Server | undefined;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cbe-list-'));
    root = join(base, 'root');
    await mkdir(root);
    files = new LocalFileWorker();
    sut = new LocalConnector({ root, fsync: false }, undefined, undefined, files);
  });

  afterEach(async () => {
    await new Promise((done) => (socket ? socket.close(done) : done(undefined)));
    socket = undefined;
    await files.terminate();
    await rm(base, { recursive: true, force: true });
  });

  it('should list what the old listing listed: links, empty folders, partial and special files', async () => {
    for (let i = 0; i < 40; i++) await writeFile(join(root, `f${i}`), 'x'.repeat(i));
    await mkdir(join(root, 'empty'));
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'inner'), 'inner');
    await writeFile(join(root, '.f1.cbe-partial-0011223344'), 'half');
    await writeFile(join(root, '.cbe-volume'), 'marker');
    await writeFile(join(base, 'outside'), 'secret');
    await symlink(join(root, 'f3'), join(root, 'link-in'));
    await symlink(join(root, 'sub'), join(root, 'link-folder-in'));
    await symlink(join(base, 'outside'), join(root, 'link-out'));
    await symlink(base, join(root, 'link-folder-out'));
    await symlink(join(root, 'nothing'), join(root, 'dangling'));
    socket = createServer();
    await new Promise((done) => socket!.listen(join(root, 'sock'), () => done(undefined)));

    const listed = await listing(sut, '');

    expect(listed).toEqual(await oldListing(root, ''));
    expect(listed.map((e) => e.name)).toEqual(
      expect.arrayContaining(['empty', 'sub', 'link-in', 'link-folder-in', 'f39']),
    );
    expect(listed).toHaveLength(40 + 4);
    expect(await listing(sut, 'empty')).toEqual([]);
    expect(await listing(sut, 'sub')).toEqual(await oldListing(root, 'sub'));
    // The times are those stat() gives, to the millisecond (the ledger compares them).
    const f5 = listed.find((e) => e.name === 'f5')!;
    expect(f5.modifiedAt).toEqual((await sut.stat('f5')).modifiedAt);
  });

  it('should take a folder in one worker job, and a large one page by page', async () => {
    for (let i = 0; i < 5000; i++) await writeFile(join(root, `f${i}`), '');
    const jobs = jest.spyOn(files, 'list');

    const names = (await listing(sut, '')).map((e) => e.name);

    expect(new Set(names).size).toBe(5000);
    expect(jobs).toHaveBeenCalledTimes(2); // 4,096 + 904
  });

  it('should close the folder when the caller stops reading early', async () => {
    for (let i = 0; i < 5000; i++) await writeFile(join(root, `f${i}`), '');
    const close = jest.spyOn(files, 'closeListing');

    for await (const e of sut.list('')) {
      expect(e.kind).toBe('file');
      break;
    }

    expect(close).toHaveBeenCalledTimes(1);
  });

  it('should throw NotFound for a missing folder and refuse a folder link leading out', async () => {
    await symlink(base, join(root, 'out'));

    await expect(listing(sut, 'missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(listing(sut, 'out')).rejects.toBeInstanceOf(InvalidPathError);
  });

  it('should stop at an aborted signal', async () => {
    await writeFile(join(root, 'a'), 'a');
    const abort = new AbortController();
    abort.abort();

    await expect(
      (async () => {
        for await (const e of sut.list('', { signal: abort.signal })) void e;
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('should list a folder of a root given through a link', async () => {
    await symlink(root, join(base, 'root-link'));
    await writeFile(join(root, 'a'), 'a');
    const viaLink = new LocalConnector(
      { root: join(base, 'root-link'), fsync: false },
      undefined,
      undefined,
      files,
    );

    expect((await listing(viaLink, '')).map((e) => e.name)).toEqual(['a']);
  });
});
