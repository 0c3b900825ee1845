import { startOneDriveEmulator } from '../../emulators/onedrive/onedrive-emulator.js';
import { createOneDriveForTest } from '../support/connectors/onedrive.js';
import { describeConnectorConformance } from './connector-conformance.js';

describeConnectorConformance('onedrive', {
  create: async () => {
    const emulator = await startOneDriveEmulator();
    return {
      connector: createOneDriveForTest(emulator, { listPageSize: 25 }),
      faults: {
        rateLimitNext: async () => emulator.control.rateLimitNext({ retryAfterSec: 2 }),
        expireToken: async () => emulator.control.expireToken(),
      },
      cleanup: () => emulator.stop(),
    };
  },
  limits: { uploadChunkSize: 320 * 1024, listPageSize: 25 },
});
