import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
