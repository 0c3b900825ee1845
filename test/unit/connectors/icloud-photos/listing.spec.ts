import type { Connector, Entry } from '../../../../src/connectors/connector.js';
import { createICloudPhotosForTest } from '../../../support/connectors/icloud-photos.js';
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

describe('iCloud Photos connector: listing cost', () => {
  let emu: ICloudPhotosEmulator;

  beforeAll(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 2000,
      sharedLibrarySize: 0,
      iterations: 1000,
      minFileSize: 10,
      maxFileSize: 100,
    });
  });
  afterAll(() => emu.stop());

  it('should list a 2,000-item library with 100 assets per query: count + 20 pages + 1 end probe', async () => {
    const { connector } = await createICloudPhotosForTest(emu);
    emu.requestLog.clear();
    const tree = await walk(connector, 'All Photos');
    const visible = emu.primary.visible().length;
    const originals = tree.filter(
      (e) => (e.extras as { variant?: string } | undefined)?.variant === 'original',
    );
    expect(originals).toHaveLength(visible);

    const queries = emu.requestLog.entries.filter((e) => e.endpoint === 'ck private/records/query');
    const pages = queries.filter(
      (e) => e.recordType === 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted',
    );
    expect(pages.map((e) => e.startRank).sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: Math.ceil(visible / 100) + 1 }, (_, i) => i * 100),
    );
    expect(queries.filter((e) => e.recordType === 'HyperionIndexCountLookup')).toHaveLength(1);
    // Year and month folders come from the index: no request beyond the scan.
    const total = emu.requestLog.entries.length;
    expect(total).toBe(
      2 /* zones/list private+shared */ + 1 /* count */ + Math.ceil(visible / 100) + 1 /* probe */,
    );
    // Scaled: 100,000 items -> 2 + 1 + 1000 + 1 = 1004 requests, under the 1,100 budget.
    expect(2 + 1 + Math.ceil(100_000 / 100) + 1).toBeLessThanOrEqual(1100);
  });

  it('should keep several listing queries in flight at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await realFetch(...args);
      } finally {
        inFlight--;
      }
    }) as typeof fetch;
    try {
      // Created after patching: the connector binds fetch when it is built.
      const { connector } = await createICloudPhotosForTest(emu, { listConcurrency: 4 });
      for await (const _ of connector.list('All Photos')) void _;
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });
});
