import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connector, Entry } from '../../../../src/connectors/connector.js';
import { ICloudPhotosConnector } from '../../../../src/connectors/icloud-photos/icloud-photos.connector.js';
import { Pacer } from '../../../../src/connectors/pacer/pacer.js';
import {
  createICloudPhotosForTest,
  emulatorEndpoints,
  fastClock,
  signInWithTrust,
} from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

async function walk(c: Connector, dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of c.list(dir)) {
    out.push(e);
    if (e.kind === 'folder') out.push(...(await walk(c, e.path)));
  }
  return out;
}

async function buffer(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts);
}

describe('iCloud Photos connector: listing index kept on disk', () => {
  let emu: ICloudPhotosEmulator;
  let spillDir: string;

  beforeAll(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 600,
      sharedLibrarySize: 0,
      iterations: 1000,
      minFileSize: 10,
      maxFileSize: 100,
    });
    spillDir = await mkdtemp(join(tmpdir(), 'icloud-spill-spec-'));
  });
  afterAll(async () => {
    await emu.stop();
    await rm(spillDir, { recursive: true, force: true });
  });

  it('should list, stat and read the same entries with the same requests when every folder goes to disk and one is cached', async () => {
    const session = await signInWithTrust(emu);
    const inMemory = (await createICloudPhotosForTest(emu, { session })).connector;
    emu.requestLog.clear();
    const expected = await walk(inMemory, 'All Photos');
    const expectedRequests = emu.requestLog.counts();
    await inMemory.close();

    const spilling = new ICloudPhotosConnector(
      {
        appleId: emu.credentials.appleId,
        password: emu.credentials.password,
        includeLivePhotoVideos: true,
        includeEdited: false,
        experimentalUpload: false,
        listConcurrency: 4,
        ...emulatorEndpoints(emu),
      },
      {
        session,
        clock: fastClock,
        pacer: new Pacer({ clock: fastClock, maxRetries: 6, random: () => 0 }),
        saveSession: async () => undefined,
        memory: { spillDir, storeMemoryBudget: 0, cachedFiles: 1 },
      },
    );
    emu.requestLog.clear();
    const listed = await walk(spilling, 'All Photos');
    expect(listed).toEqual(expected);
    expect(emu.requestLog.counts()).toEqual(expectedRequests);
    const dirs = await readdir(spillDir);
    expect(dirs).toHaveLength(1);
    expect((await readdir(join(spillDir, dirs[0]!))).length).toBeGreaterThan(1);

    // The first month is no longer cached: stat and read come from disk, with no CloudKit request.
    const files = listed.filter((e) => e.kind === 'file');
    const first = files[0]!;
    emu.requestLog.clear();
    expect(await spilling.stat(first.path)).toEqual(first);
    const data = await buffer(await spilling.read(first.path));
    expect(data.length).toBe(first.size);
    expect(emu.requestLog.count('ck')).toBe(0);

    await spilling.close();
    expect(await readdir(spillDir)).toEqual([]);
  });
});
