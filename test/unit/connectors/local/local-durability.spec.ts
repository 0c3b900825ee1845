/**
 * Issue #21: the local connector's durability barrier runs `sync -f` (syncfs(2)) once per file
 * system, not once per folder written. `execFile` is wrapped on the CommonJS module object
 * before the module under test is loaded (as local-confinement.spec does with realpath).
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const cp = require('node:child_process') as typeof import('node:child_process');
const fsp = (require('node:fs') as typeof import('node:fs')).promises;
const calls: string[][] = [];
const originalExecFile = cp.execFile;
(cp as { execFile: unknown }).execFile = (file: string, args: string[], cb: unknown) => {
  calls.push([file, ...args]);
  return (originalExecFile as (...a: unknown[]) => unknown)(file, args, cb);
};

const { nodeSyncCalls } = await import('../../../../src/connectors/local/local.durability.js');

describe('local durability barrier', () => {
  let root: string;

  beforeEach(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), 'cbe-durability-'));
    calls.length = 0;
  });

  afterEach(() => fsp.rm(root, { recursive: true, force: true }));

  it('should syncfs each file system once, whatever the number of folders on it', async () => {
    const folders = ['a', 'b', 'c', 'd'].map((n) => join(root, n));
    for (const f of folders) await fsp.mkdir(f);

    expect(await nodeSyncCalls.syncFileSystems(folders)).toBe(true);

    // Before: one `sync -f` argument (one syncfs and one journal commit) per folder.
    expect(calls).toEqual([['sync', '-f', '--', folders[0]]]);
  });

  it('should answer false (fsync file by file) when a folder is gone', async () => {
    expect(await nodeSyncCalls.syncFileSystems([join(root, 'gone')])).toBe(false);
    expect(calls).toEqual([]);
  });
});
