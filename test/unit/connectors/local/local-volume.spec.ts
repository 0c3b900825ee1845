import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RootMissingError } from '../../../../src/connectors/connector.errors.js';
import { LocalConnector } from '../../../../src/connectors/local/local.connector.js';
import { VOLUME_MARKER } from '../../../../src/connectors/local/local.volume.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('LocalConnector root presence', () => {
  let dir: string;
  let root: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-volume-'));
    root = join(dir, 'usb');
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('should refuse to write when its root is missing, creating nothing', async () => {
    const sut = new LocalConnector({ root, fsync: false });

    await expect(sut.write('B/v1/a.txt', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      RootMissingError,
    );
    await expect(sut.mkdir('B')).rejects.toBeInstanceOf(RootMissingError);
    expect(await exists(root)).toBe(false);
  });

  it('should still create missing folders below an existing root', async () => {
    await mkdir(root);
    const sut = new LocalConnector({ root, fsync: false });

    await sut.write('B/v1/a.txt', Readable.from([Buffer.from('x')]));

    expect(await readFile(join(root, 'B', 'v1', 'a.txt'), 'utf8')).toBe('x');
  });

  it('should report missing when the root is gone', async () => {
    const sut = new LocalConnector({ root, fsync: false });

    const check = await sut.checkRoot();

    expect(check.state).toBe('missing');
    expect(check.detail).toContain(root);
  });

  it('should write a marker on first use and remember its id', async () => {
    await mkdir(root);
    const remembered: string[] = [];
    const sut = new LocalConnector(
      { root, fsync: false },
      { remember: async (id) => void remembered.push(id) },
    );

    expect((await sut.checkRoot()).state).toBe('present');

    const id = (await readFile(join(root, VOLUME_MARKER), 'utf8')).trim();
    expect(remembered).toEqual([id]);
  });

  it('should tell an empty folder at the same path from the drive it knew', async () => {
    await mkdir(root);
    await writeFile(join(root, VOLUME_MARKER), 'drive-1\n');
    const known = new LocalConnector({ root, fsync: false }, { knownId: 'drive-1' });
    expect((await known.checkRoot()).state).toBe('present');

    await rename(root, join(dir, 'unplugged'));
    await mkdir(root); // the empty mount point left behind
    const check = await known.checkRoot();

    expect(check.state).toBe('not-this-volume');
    expect(check.detail).toContain('drive-1');
  });

  it('should tell another drive by its other marker', async () => {
    await mkdir(root);
    await writeFile(join(root, VOLUME_MARKER), 'drive-2\n');
    const sut = new LocalConnector({ root, fsync: false }, { knownId: 'drive-1' });

    expect((await sut.checkRoot()).state).toBe('not-this-volume');
  });

  it('should hide its marker from listings', async () => {
    await mkdir(root);
    await writeFile(join(root, 'a.txt'), 'a');
    const sut = new LocalConnector({ root, fsync: false });
    await sut.checkRoot();

    const names: string[] = [];
    for await (const e of sut.list('')) names.push(e.name);

    expect(names).toEqual(['a.txt']);
  });
});
