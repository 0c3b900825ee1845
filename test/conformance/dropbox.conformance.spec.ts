import { createDropboxForTest } from '../support/connectors/dropbox.js';
import { startDropboxEmulator } from '../../emulators/dropbox/dropbox-emulator.js';
import { describeConnectorConformance } from './connector-conformance.js';

describeConnectorConformance('dropbox', {
  create: async () => {
    const emulator = await startDropboxEmulator();
    const { connector } = createDropboxForTest(emulator);
    return {
      connector,
      faults: {
        rateLimitNext: async () => emulator.control.rateLimitNext({ retryAfterSeconds: 2 }),
        expireToken: async () => emulator.control.expireAccessTokens(),
      },
      cleanup: () => emulator.stop(),
    };
  },
  limits: { uploadChunkSize: 256 * 1024, listPageSize: 25 },
});
