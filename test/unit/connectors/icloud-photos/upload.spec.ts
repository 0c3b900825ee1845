import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFoundError, UnsupportedError } from '../../../../src/connectors/connector.errors.js';
import type { Entry } from '../../../../src/connectors/connector.js';
import { createICloudPhotosForTest } from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

/** Experimental upload (brief §4.2: createUploadUrl -> content URL -> putAsset) against the emulator. */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A body in 16 KiB pieces, as a source stream would deliver it. */
function bodyOf(b: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < b.length; i += 16 * 1024) pieces.push(b.subarray(i, i + 16 * 1024));
  return Readable.from(pieces);
}

/** A JPEG/HEIC-looking file: the right magic bytes, random content. */
function photo(kind: 'jpeg' | 'heic', size: number): Buffer {
  const b = randomBytes(size);
  if (kind === 'jpeg') Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(b, 0);
  else Buffer.from('\0\0\0\x18ftypheic', 'latin1').copy(b, 0);
  return b;
}

describe('iCloud Photos experimental upload', () => {
  let emu: ICloudPhotosEmulator;

  beforeEach(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 20,
      sharedLibrarySize: 0,
      startDate: Date.UTC(2021, 0, 1),
      spanMs: 300 * 86_400_000,
      iterations: 1000,
    });
  });
  afterEach(async () => {
    await emu.stop();
  });

  const uploads = () =>
    emu.requestLog.entries.filter((e) => e.endpoint.startsWith('upload')).map((e) => e.endpoint);

  it('should upload a JPEG, list it by capture month, report it in changes/zone and read back the same bytes when experimentalUpload is on', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    expect(connector.capabilities.writable).toBe(true);
    const cursor = await connector.currentCursor('');
    const bytes = photo('jpeg', 150 * 1024 + 7);
    emu.requestLog.clear();

    const entry = await connector.write('All Photos/2019/01/Harbour.JPG', bodyOf(bytes), {
      size: bytes.length,
      modifiedAt: new Date(Date.UTC(2024, 4, 10, 9, 30)),
    });

    // The path follows the capture date, not the folder asked for.
    expect(entry).toMatchObject({
      path: 'All Photos/2024/05/Harbour.JPG',
      name: 'Harbour.JPG',
      kind: 'file',
      size: bytes.length,
    });
    expect(entry.modifiedAt?.toISOString()).toBe('2024-05-10T09:30:00.000Z');
    expect(uploads()).toEqual(['upload createUploadUrl', 'upload content', 'upload putAsset']);
    const content = emu.requestLog.entries.find((e) => e.endpoint === 'upload content');
    expect(content).toMatchObject({ status: 200, bytes: bytes.length });
    const asset = emu.primary.byAssetId.get(entry.extras!.assetId as string)!;
    expect(asset.filename).toBe('Harbour.JPG');
    expect(sha(emu.expectedBytes(asset, 'resOriginal'))).toBe(sha(bytes));

    const listed: Entry[] = [];
    for await (const e of connector.list('All Photos/2024/05')) listed.push(e);
    expect(listed.map((e) => e.path)).toEqual(['All Photos/2024/05/Harbour.JPG']);
    expect(listed[0]!.extras).toMatchObject({ mediaType: 'public.jpeg' });

    const page = await connector.changes('', cursor);
    const upserts = page.changes.filter((c) => c.type === 'upsert');
    expect(upserts.map((c) => (c.type === 'upsert' ? c.entry.path : ''))).toEqual([
      'All Photos/2024/05/Harbour.JPG',
    ]);

    expect(sha(await readAll(await connector.read(entry.path)))).toBe(sha(bytes));
  });

  it('should upload a HEIC next to a same-named photo under the suffixed name the listing gives it when the month already has that name', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    const when = new Date(Date.UTC(2025, 1, 3, 12));
    const first = photo('heic', 40_000);
    const second = photo('heic', 41_000);
    const a = await connector.write('All Photos/IMG_0001.HEIC', bodyOf(first), {
      size: first.length,
      modifiedAt: when,
    });
    const b = await connector.write('All Photos/IMG_0001.HEIC', bodyOf(second), {
      size: second.length,
      modifiedAt: new Date(when.getTime() + 60_000),
    });

    expect(a.path).toBe('All Photos/2025/02/IMG_0001.HEIC');
    expect(b.path).toMatch(/^All Photos\/2025\/02\/IMG_0001 \([A-Za-z0-9]{8}\)\.HEIC$/);
    const listed: string[] = [];
    for await (const e of connector.list('All Photos/2025/02')) listed.push(e.path);
    expect(listed.sort()).toEqual([a.path, b.path].sort());
    expect(sha(await readAll(await connector.read(b.path)))).toBe(sha(second));
    expect((await connector.stat(a.path)).extras).toMatchObject({ mediaType: 'public.heic' });
  });

  it('should not create a second asset when the same bytes are uploaded again', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    const bytes = photo('jpeg', 30_000);
    const meta = { size: bytes.length, modifiedAt: new Date(Date.UTC(2024, 6, 1)) };
    const one = await connector.write('All Photos/a.JPG', bodyOf(bytes), meta);
    const two = await connector.write('All Photos/a.JPG', bodyOf(bytes), meta);

    expect(two.extras).toMatchObject({ duplicate: true, assetId: one.extras!.assetId });
    expect(emu.primary.assets.filter((x) => x.upload).length).toBe(1);
  });

  it('should refuse a stream of unknown size before any upload request when meta.size is missing', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    emu.requestLog.clear();
    const p = connector.write('All Photos/x.JPG', bodyOf(photo('jpeg', 1000)), {});

    await expect(p).rejects.toBeInstanceOf(UnsupportedError);
    await expect(p).rejects.toThrow(/needs the file size before the bytes/);
    expect(uploads()).toEqual([]);
  });

  it('should refuse a file type iCloud Photos does not take with a message naming the file when putAsset answers 415', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    const b = Buffer.from('not a photo');
    const p = connector.write('All Photos/notes.txt', bodyOf(b), { size: b.length });

    await expect(p).rejects.toBeInstanceOf(UnsupportedError);
    await expect(p).rejects.toThrow(/does not accept 'notes.txt'/);
    expect(emu.primary.assets.some((a) => a.filename === 'notes.txt')).toBe(false);
  });

  it('should return the predicted path and find the asset only after indexing when iCloud indexes new uploads slowly', async () => {
    await emu.stop();
    emu = await startICloudPhotosEmulator({
      librarySize: 5,
      sharedLibrarySize: 0,
      iterations: 1000,
      uploadIndexingDelayMs: 60_000,
    });
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    const bytes = photo('jpeg', 20_000);
    const entry = await connector.write('All Photos/late.JPG', bodyOf(bytes), {
      size: bytes.length,
      modifiedAt: new Date(Date.UTC(2026, 2, 4)),
    });

    expect(entry).toMatchObject({
      path: 'All Photos/2026/03/late.JPG',
      extras: { indexing: true },
    });
    await expect(connector.stat(entry.path)).rejects.toBeInstanceOf(NotFoundError);
    emu.control.finishIndexing();
    expect((await connector.stat(entry.path)).size).toBe(bytes.length);
  });

  it('should move an uploaded photo to Recently Deleted when it is removed', async () => {
    const { connector } = await createICloudPhotosForTest(emu, { experimentalUpload: true });
    const bytes = photo('jpeg', 10_000);
    const entry = await connector.write('All Photos/gone.JPG', bodyOf(bytes), {
      size: bytes.length,
      modifiedAt: new Date(Date.UTC(2024, 8, 9)),
    });
    await connector.remove(entry.path);

    const asset = emu.primary.byAssetId.get(entry.extras!.assetId as string)!;
    expect(asset.deleted).toBe(true);
    expect(asset.purged).toBe(false);
    await expect(connector.stat(entry.path)).rejects.toBeInstanceOf(NotFoundError);
    expect(emu.requestLog.entries.some((e) => e.endpoint === 'ck private/records/modify')).toBe(
      true,
    );
  });

  it('should refuse writes, mkdir and remove saying restore must target another location when experimentalUpload is off', async () => {
    const { connector } = await createICloudPhotosForTest(emu);
    expect(connector.capabilities.writable).toBe(false);
    emu.requestLog.clear();
    const b = photo('jpeg', 1000);
    const w = connector.write('All Photos/2024/01/x.JPG', bodyOf(b), { size: b.length });

    await expect(w).rejects.toBeInstanceOf(UnsupportedError);
    await expect(w).rejects.toThrow(
      /read-only backup source.*410 Gone.*restore must target another location/,
    );
    await expect(connector.mkdir('All Photos/2024')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(connector.remove('All Photos/2024/01/x.JPG')).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    expect(uploads()).toEqual([]);
  });

  it('should answer 410 Gone on the withdrawn uploadimagews endpoint', async () => {
    const res = await fetch(`${emu.baseUrl}/upload?dsid=12345678901&filename=a.jpg`, {
      method: 'POST',
      body: 'x',
    });
    expect(res.status).toBe(410);
  });
});
