import { createGoogleDriveForTest } from '../support/connectors/google-drive.js';
import { startGoogleDriveEmulator } from '../../emulators/google-drive/google-drive.emulator.js';
import { describeConnectorConformance } from './connector-conformance.js';

describeConnectorConformance('google-drive', {
  create: async () => {
    const emulator = await startGoogleDriveEmulator();
    // Short pages force the connector to follow nextPageToken in the paging test.
    return {
      connector: createGoogleDriveForTest(emulator, { config: { listPageSize: 50 } }),
      faults: {
        rateLimitNext: async () =>
          emulator.control.rateLimitNext({ status: 429, retryAfterSeconds: 1 }),
        expireToken: async () => emulator.control.expireTokens(),
      },
      cleanup: () => emulator.stop(),
    };
  },
  limits: { uploadChunkSize: 256 * 1024, listPageSize: 50 },
});
