import { Readable } from 'node:stream';
import type { Change } from '../../../../src/connectors/connector.js';
import { NotFoundError } from '../../../../src/connectors/connector.errors.js';
import type { DropboxConnector } from '../../../../src/connectors/dropbox/dropbox.connector.js';
import { createDropboxForTest } from '../../../support/connectors/dropbox.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../../emulators/dropbox/dropbox-emulator.js';

async function drain(
  sut: DropboxConnector,
  dir: string,
  cursor: string,
): Promise<{ changes: Change[]; cursor: string; pages: number }> {
  const changes: Change[] = [];
  let cur = cursor;
  let pages = 0;
  for (let more = true; more; pages++) {
    const page = await sut.changes(dir, cur);
    changes.push(...page.changes);
    cur = page.cursor;
    more = page.hasMore;
  }
  return { changes, cursor: cur, pages };
}

describe('DropboxConnector change feed', () => {
  let emu: DropboxEmulator;
  let sut: DropboxConnector;

  beforeEach(async () => {
    emu = await startDropboxEmulator();
    sut = createDropboxForTest(emu, { config: { listPageSize: 2 } }).connector;
    await sut.mkdir('Watched');
  });

  afterEach(async () => {
    await emu.stop();
  });

  it('should report upserts with paths relative to the account when files are added under the watched folder', async () => {
    const cursor = await sut.currentCursor('Watched');
    await sut.write('Watched/Sub/One.txt', Readable.from([Buffer.from('1')]));
    await sut.write('Elsewhere/x.txt', Readable.from([Buffer.from('x')]));

    const { changes } = await drain(sut, 'Watched', cursor);

    const upserts = changes
      .filter((c) => c.type === 'upsert')
      .map((c) => (c.type === 'upsert' ? [c.entry.path, c.entry.kind] : []));
    expect(upserts).toEqual([
      ['Watched/Sub', 'folder'],
      ['Watched/Sub/One.txt', 'file'],
    ]);
  });

  it('should page changes by the list page size and keep their order', async () => {
    const cursor = await sut.currentCursor('Watched');
    for (const n of ['a', 'b', 'c', 'd', 'e'])
      await sut.write(`Watched/${n}.txt`, Readable.from([Buffer.from(n)]));

    const { changes, pages } = await drain(sut, 'Watched', cursor);

    expect(changes.map((c) => (c.type === 'upsert' ? c.entry.name : c.path))).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
      'd.txt',
      'e.txt',
    ]);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('should report a removal as a delete without id, and a removed folder once', async () => {
    await sut.write('Watched/F/in.txt', Readable.from([Buffer.from('i')]));
    const cursor = await sut.currentCursor('Watched');
    await sut.remove('Watched/F');

    const { changes } = await drain(sut, 'Watched', cursor);

    expect(changes).toEqual([{ type: 'delete', path: 'Watched/F' }]);
  });

  it('should return no changes and the same position when nothing happened', async () => {
    const cursor = await sut.currentCursor('');
    const page = await sut.changes('', cursor);
    expect(page).toMatchObject({ changes: [], hasMore: false });
  });

  it('should throw NotFoundError when the watched folder vanished', async () => {
    const cursor = await sut.currentCursor('Watched');
    await sut.remove('Watched');
    await expect(sut.changes('Watched', cursor)).rejects.toBeInstanceOf(NotFoundError);
  });
});
