import { createS3Connector } from '../../src/connectors/s3/s3.factory.js';
import { startS3Server } from '../servers/s3rver.server.js';
import { describeConnectorConformance } from './connector-conformance.js';
import { systemClock } from '../../src/common/clock.js';

const MiB = 1024 * 1024;

describeConnectorConformance('s3', {
  create: async () => {
    const server = await startS3Server();
    const connector = createS3Connector(
      { config: { ...server.accountOptions, partSize: 5 * MiB, listPageSize: 25 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    return { connector, cleanup: () => server.stop() };
  },
  unsupported: {
    changeFeed: 'S3 has no change feed (bucket notifications need a queue service)',
    serverSideCopy: 'CopyObject is not wired into the connector yet',
    faults:
      's3rver is a real S3 server: it cannot be told to answer 429 or expire a key on demand; error mapping has unit specs',
  },
  limits: { uploadChunkSize: 5 * MiB, listPageSize: 25 },
});
