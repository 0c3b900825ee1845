import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { IsADirectoryError } from '../../src/connectors/connector.errors.js';
import { LocalConnector } from '../../src/connectors/local/local.connector.js';
import { describeConnectorConformance } from './connector-conformance.js';

describeConnectorConformance('local', {
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), 'cbe-local-'));
    return {
      connector: new LocalConnector({ root, fsync: false }),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
  unsupported: {
    changeFeed: 'a plain folder has no change journal',
    serverSideCopy: 'not implemented for local folders yet',
    faults: 'a local folder has no rate limits or tokens',
  },
  limits: { uploadChunkSize: 256 * 1024 },
});

describe('local writes and the folder cache (issue #21)', () => {
  it('should write into a folder again after it was removed behind the connector', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cbe-local-'));
    try {
      const c = new LocalConnector({ root, fsync: true });
      const body = () => Readable.from([Buffer.from('bytes')]);
      await c.write('run/d1/a.txt', body(), { size: 5 });
      await rm(join(root, 'run'), { recursive: true });
      const b = await c.write('run/d1/b.txt', body(), { size: 5, modifiedAt: new Date(1e12) });
      expect(b.size).toBe(5);
      expect(await readFile(join(root, 'run', 'd1', 'b.txt'), 'utf8')).toBe('bytes');
      expect((await stat(join(root, 'run', 'd1', 'b.txt'))).mtimeMs).toBe(1e12);
      await c.mkdir('run/d1/folder');
      await expect(c.write('run/d1/folder', body(), { size: 5 })).rejects.toBeInstanceOf(
        IsADirectoryError,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
