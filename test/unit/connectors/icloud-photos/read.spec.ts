import { buffer } from 'node:stream/consumers';
import type { Connector, Entry } from '../../../../src/connectors/connector.js';
import {
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  UnsupportedError,
} from '../../../../src/connectors/connector.errors.js';
import type { PhotoVariant } from '../../../../src/connectors/icloud-photos/icloud-photos.mapper.js';
import { createICloudPhotosForTest } from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';
import type { ResourceVariant } from '../../../../emulators/icloud-photos/library.js';

const RES: Record<PhotoVariant, ResourceVariant> = {
  original: 'resOriginal',
  alt: 'resOriginalAlt',
  live: 'resOriginalVidCompl',
  edited: 'resJPEGFull',
};

async function listAll(c: Connector, dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of c.list(dir)) out.push(e);
  return out;
}

async function walk(c: Connector, dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const e of await listAll(c, dir)) {
    out.push(e);
    if (e.kind === 'folder') out.push(...(await walk(c, e.path)));
  }
  return out;
}

describe('iCloud Photos connector: reading a seeded library', () => {
  let emu: ICloudPhotosEmulator;
  let sut: Connector;
  let tree: Entry[];

  beforeAll(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 60,
      sharedLibrarySize: 4,
      iterations: 1000,
    });
    sut = (await createICloudPhotosForTest(emu, { includeEdited: true })).connector;
    tree = await walk(sut, '');
  });
  afterAll(() => emu.stop());

  const expectedFor = (e: Entry): Buffer => {
    const x = e.extras as { assetId: string; variant: PhotoVariant; zone: string };
    const lib = x.zone === 'PrimarySync' ? emu.primary : emu.shared!;
    return emu.expectedBytes(lib.byAssetId.get(x.assetId)!, RES[x.variant]);
  };

  it('should show All Photos, Shared Library and Albums at the root', async () => {
    expect((await listAll(sut, '')).map((e) => e.name).sort()).toEqual([
      'Albums',
      'All Photos',
      'Shared Library',
    ]);
  });

  it('should list every visible asset once under All Photos/<YYYY>/<MM> by capture month', () => {
    const files = tree.filter((e) => e.kind === 'file' && e.path.startsWith('All Photos/'));
    const originals = files.filter((e) => (e.extras as { variant: string }).variant === 'original');
    const visible = emu.primary.visible();
    expect(originals.map((e) => (e.extras as { assetId: string }).assetId).sort()).toEqual(
      visible.map((a) => a.assetId).sort(),
    );
    for (const e of files) expect(e.path).toMatch(/^All Photos\/\d{4}\/(0[1-9]|1[0-2])\/[^/]+$/);
    // hidden and recently deleted assets are not listed
    const hidden = emu.primary.assets.filter((a) => a.hidden || a.deleted).map((a) => a.assetId);
    expect(files.some((e) => hidden.includes((e.extras as { assetId: string }).assetId))).toBe(
      false,
    );
  });

  it('should give every file a unique name in its folder, suffixing duplicates with the asset id', () => {
    const files = tree.filter((e) => e.kind === 'file');
    const paths = files.map((e) => e.path.toLowerCase());
    expect(new Set(paths).size).toBe(paths.length);
    const suffixed = files.filter((e) => / \([A-Za-z0-9]{8}\)\./.test(e.name));
    expect(suffixed.length).toBeGreaterThan(0);
    for (const e of suffixed) {
      const id = (e.extras as { assetId: string }).assetId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
      expect(e.name).toContain(`(${id})`);
    }
  });

  it('should put the Live Photo video beside its still and name edits -edited', () => {
    const names = new Set(tree.filter((e) => e.kind === 'file').map((e) => e.path));
    const lives = tree.filter(
      (e) => (e.extras as { variant?: string } | undefined)?.variant === 'live',
    );
    expect(lives.length).toBeGreaterThan(0);
    for (const l of lives) expect(names.has(l.path.replace(/\.MOV$/, '.HEIC'))).toBe(true);
    const edits = tree.filter(
      (e) => (e.extras as { variant?: string } | undefined)?.variant === 'edited',
    );
    expect(edits.length).toBeGreaterThan(0);
    for (const e of edits) expect(e.name).toMatch(/-edited\.JPG$/);
    expect(tree.some((e) => e.name.endsWith('.CR2'))).toBe(true); // RAW+JPEG keeps the RAW original
  });

  it('should list albums, nested album folders and same-named albums', async () => {
    const albums = (await listAll(sut, 'Albums')).map((e) => e.name).sort();
    expect(albums).toHaveLength(4);
    expect(albums).toContain('Holiday');
    expect(albums).toContain('Family');
    expect(albums).toContain('Trips');
    expect(albums.find((n) => /^Holiday \(.{8}\)$/.test(n))).toBeDefined();
    expect((await listAll(sut, 'Albums/Trips')).map((e) => e.name)).toEqual(['Paris']);
    const family = await listAll(sut, 'Albums/Family');
    const album = emu.primary.albums.find((a) => a.name === 'Family')!;
    expect(
      family.filter((e) => (e.extras as { variant: string }).variant === 'original'),
    ).toHaveLength(album.members.size);
  });

  it('should read every file byte-identical with the size the listing reported', async () => {
    const files = tree.filter((e) => e.kind === 'file');
    for (const e of files.slice(0, 40)) {
      const data = await buffer(await sut.read(e.path));
      expect(data.length).toBe(e.size);
      expect(data.equals(expectedFor(e))).toBe(true);
    }
  });

  it('should read ranges exactly, clamp past the end and refuse a start past the end', async () => {
    const e = tree.find((x) => x.kind === 'file' && (x.size ?? 0) > 3000)!;
    const full = expectedFor(e);
    expect(
      (await buffer(await sut.read(e.path, { range: { offset: 100, length: 1000 } }))).equals(
        full.subarray(100, 1100),
      ),
    ).toBe(true);
    expect(
      (
        await buffer(await sut.read(e.path, { range: { offset: full.length - 10, length: 500 } }))
      ).equals(full.subarray(full.length - 10)),
    ).toBe(true);
    expect((await buffer(await sut.read(e.path, { range: { offset: full.length } }))).length).toBe(
      0,
    );
    await expect(sut.read(e.path, { range: { offset: full.length + 1 } })).rejects.toBeInstanceOf(
      InvalidRangeError,
    );
  });

  it('should stat files and folders as listed', async () => {
    const e = tree.find((x) => x.kind === 'file')!;
    expect(await sut.stat(e.path)).toMatchObject({
      path: e.path,
      size: e.size,
      kind: 'file',
      id: e.id,
    });
    const folder = tree.find(
      (x) => x.kind === 'folder' && /^All Photos\/\d{4}\/\d{2}$/.test(x.path),
    )!;
    expect(await sut.stat(folder.path)).toMatchObject({ kind: 'folder', path: folder.path });
  });

  it('should throw NotFound for missing paths, IsADirectory and NotADirectory for the wrong kind', async () => {
    const file = tree.find((x) => x.kind === 'file')!;
    await expect(sut.stat('All Photos/1999/01/IMG_0001.HEIC')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(sut.stat('All Photos/2020/13')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.stat(file.path + '.nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.stat('Nope/x.jpg')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.read('Albums/No such album/x.jpg')).rejects.toBeInstanceOf(NotFoundError);
    await expect(listAll(sut, 'Albums/No such album')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.read('All Photos')).rejects.toBeInstanceOf(IsADirectoryError);
    await expect(listAll(sut, file.path)).rejects.toBeInstanceOf(NotADirectoryError);
  });

  it('should refuse writes with UnsupportedError explaining restores go elsewhere', async () => {
    const err = await sut.mkdir('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/restore must target another location/);
  });

  it('should stat a file cold (new connector) with a binary search, not a full listing', async () => {
    const e = tree.find((x) => x.kind === 'file' && x.path.startsWith('All Photos/'))!;
    const cold = (await createICloudPhotosForTest(emu)).connector;
    emu.requestLog.clear();
    expect(await cold.stat(e.path)).toMatchObject({ size: e.size, id: e.id });
    const queries = emu.requestLog.count('ck private/records/query');
    // 1 count + ~log2(57) probes + 1-2 pages, far from a full listing.
    expect(queries).toBeLessThanOrEqual(1 + 7 + 2);
    expect(
      emu.requestLog.entries.some(
        (x) =>
          x.endpoint === 'ck private/records/query' && x.startRank !== undefined && x.startRank > 0,
      ),
    ).toBe(true);
  });
});
