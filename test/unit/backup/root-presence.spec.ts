import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RootMissingError,
  SourceOfflineError,
  TargetOfflineError,
  TransientError,
} from '../../../src/connectors/connector.errors.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import { asOfflineError, assertRunRootsPresent } from '../../../src/backup/plan/root-presence.js';

describe('assertRunRootsPresent', () => {
  let dir: string;
  let source: LocalConnector;
  let target: LocalConnector;
  let remembered: string | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-roots-'));
    await mkdir(join(dir, 'src', 'Photos'), { recursive: true });
    await mkdir(join(dir, 'usb', 'B'), { recursive: true });
    source = new LocalConnector({ root: join(dir, 'src'), fsync: false });
    target = new LocalConnector(
      { root: join(dir, 'usb'), fsync: false },
      { remember: async (id) => void (remembered = id) },
    );
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const roots = (over: Partial<Parameters<typeof assertRunRootsPresent>[0]> = {}) => ({
    source,
    sourcePath: 'Photos',
    target,
    targetPath: 'B',
    targetHoldsVersions: true,
    ...over,
  });

  it('should pass when both sides and their folders are there', async () => {
    await expect(assertRunRootsPresent(roots())).resolves.toBeUndefined();
    expect(remembered).toBeDefined();
  });

  it('should say the target is offline when its drive is gone', async () => {
    await rename(join(dir, 'usb'), join(dir, 'away'));

    await expect(assertRunRootsPresent(roots())).rejects.toBeInstanceOf(TargetOfflineError);
  });

  it('should say the target is offline when an empty folder sits where the drive was', async () => {
    await assertRunRootsPresent(roots());
    const known = new LocalConnector(
      { root: join(dir, 'usb'), fsync: false },
      { knownId: remembered },
    );
    await rename(join(dir, 'usb'), join(dir, 'away'));
    await mkdir(join(dir, 'usb', 'B'), { recursive: true });

    await expect(assertRunRootsPresent(roots({ target: known }))).rejects.toThrow(
      /target is offline: .*no \.cbe-volume marker/,
    );
  });

  it('should say the target is offline when the folder holding earlier versions vanished', async () => {
    await rm(join(dir, 'usb', 'B'), { recursive: true });

    await expect(assertRunRootsPresent(roots())).rejects.toThrow(
      /target is offline: the folder 'B', which holds the earlier versions, is not there/,
    );
  });

  it('should let a first run create the target folder', async () => {
    await rm(join(dir, 'usb', 'B'), { recursive: true });

    await expect(
      assertRunRootsPresent(roots({ targetHoldsVersions: false })),
    ).resolves.toBeUndefined();
  });

  it('should say the source is offline when its folder is gone', async () => {
    await rm(join(dir, 'src', 'Photos'), { recursive: true });

    await expect(assertRunRootsPresent(roots())).rejects.toBeInstanceOf(SourceOfflineError);
  });

  it('should say the source is offline when its root is a file', async () => {
    await rm(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src'), 'not a folder');

    await expect(assertRunRootsPresent(roots({ sourcePath: '' }))).rejects.toBeInstanceOf(
      SourceOfflineError,
    );
  });

  it('should turn a root lost mid-run into the side offline error, and leave others alone', () => {
    const transient = new TransientError('x');

    expect(asOfflineError(new RootMissingError('gone'), 'target')).toBeInstanceOf(
      TargetOfflineError,
    );
    expect(asOfflineError(transient, 'source')).toBe(transient);
  });
});
