import type { Change, ChangePage } from '../../../../src/connectors/connector.js';
import { CursorExpiredError } from '../../../../src/connectors/connector.errors.js';
import type { ICloudPhotosConnector } from '../../../../src/connectors/icloud-photos/icloud-photos.connector.js';
import { createICloudPhotosForTest } from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

async function drain(
  c: ICloudPhotosConnector,
  cursor: string,
): Promise<{ changes: Change[]; cursor: string; pages: ChangePage[] }> {
  const pages: ChangePage[] = [];
  let cur = cursor;
  for (let more = true; more;) {
    const p = await c.changes('', cur);
    pages.push(p);
    cur = p.cursor;
    more = p.hasMore;
  }
  return { changes: pages.flatMap((p) => p.changes), cursor: cur, pages };
}

describe('iCloud Photos connector: change feed', () => {
  let emu: ICloudPhotosEmulator;

  beforeEach(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 300,
      sharedLibrarySize: 3,
      iterations: 1000,
      minFileSize: 10,
      maxFileSize: 200,
    });
  });
  afterEach(() => emu.stop());

  it('should make a handful of requests on a repeat run over an unchanged library', async () => {
    const first = await createICloudPhotosForTest(emu);
    const cursor = await first.connector.currentCursor('');
    for await (const _ of first.connector.list('All Photos')) void _;
    // Next run: a new connector instance from the stored session and cursor.
    const next = await createICloudPhotosForTest(emu, { session: first.session });
    emu.requestLog.clear();
    const { changes } = await drain(next.connector, cursor);
    expect(changes).toEqual([]);
    expect(emu.requestLog.entries.length).toBeLessThan(10);
    expect(emu.requestLog.counts()).toEqual({
      'ck private/zones/list': 1,
      'ck shared/zones/list': 1,
      'ck private/changes/zone': 2, // PrimarySync + the Shared Library zone
    });
  });

  it('should report added, edited and trashed assets at their paths', async () => {
    const first = await createICloudPhotosForTest(emu, { includeEdited: true });
    const cursor = await first.connector.currentCursor('');
    const before = new Map<string, string>();
    const walk = async (dir: string): Promise<void> => {
      for await (const e of first.connector.list(dir)) {
        if (e.kind === 'folder') await walk(e.path);
        else
          before.set(
            `${(e.extras as { assetId: string }).assetId}/${(e.extras as { variant: string }).variant}`,
            e.path,
          );
      }
    };
    await walk('All Photos');

    const victim = emu.primary.visible()[10]!;
    const edited = emu.primary.visible()[20]!;
    emu.control.deleteAsset(victim.assetId);
    emu.control.editAsset(edited.assetId);
    const added = emu.control.addAsset({
      assetDate: Date.UTC(2024, 4, 17, 12),
      filename: 'IMG_9999.JPG',
      kind: 'jpeg',
    });

    const next = await createICloudPhotosForTest(emu, {
      session: first.session,
      includeEdited: true,
    });
    const { changes, cursor: after } = await drain(next.connector, cursor);
    const upserts = changes
      .filter((c) => c.type === 'upsert')
      .map((c) => (c.type === 'upsert' ? c.entry : undefined)!);
    const deletes = changes
      .filter((c) => c.type === 'delete')
      .map((c) => (c.type === 'delete' ? c.path : ''));

    expect(upserts.some((e) => e.path === 'All Photos/2024/05/IMG_9999.JPG')).toBe(true);
    expect(upserts.some((e) => e.path === before.get(`${edited.assetId}/original`))).toBe(true);
    expect(
      upserts.some(
        (e) =>
          (e.extras as { variant: string }).variant === 'edited' &&
          (e.extras as { assetId: string }).assetId === edited.assetId,
      ),
    ).toBe(true);
    expect(deletes).toContain(before.get(`${victim.assetId}/original`));
    expect(upserts.some((e) => (e.extras as { assetId: string }).assetId === victim.assetId)).toBe(
      false,
    );
    void added;

    // Caught up: nothing more under the new cursor.
    expect((await drain(next.connector, after)).changes).toEqual([]);
  });

  it('should throw CursorExpiredError when iCloud refuses the sync token', async () => {
    const { connector } = await createICloudPhotosForTest(emu);
    const bad = Buffer.from(
      JSON.stringify({ v: 1, zones: { PrimarySync: 'garbage', [emu.shared!.opts.zone]: 'x' } }),
    ).toString('base64url');
    await expect(connector.changes('', bad)).rejects.toBeInstanceOf(CursorExpiredError);
    await expect(connector.changes('', 'not a cursor')).rejects.toBeInstanceOf(CursorExpiredError);
  });
});
