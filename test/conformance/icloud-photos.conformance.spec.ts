import { createICloudPhotosForTest } from '../support/connectors/icloud-photos.js';
import { startICloudPhotosEmulator } from '../../emulators/icloud-photos/icloud-photos.emulator.js';
import { describeConnectorConformance } from './connector-conformance.js';

const READ_ONLY =
  'iCloud Photos is a read-only source (no supported upload API); its reads are covered by test/unit/connectors/icloud-photos';

describeConnectorConformance('icloud-photos', {
  create: async () => {
    const emulator = await startICloudPhotosEmulator({ librarySize: 30, iterations: 1000 });
    const { connector } = await createICloudPhotosForTest(emulator);
    return {
      connector,
      faults: {
        rateLimitNext: async () => emulator.control.rateLimitNext(),
        expireToken: async () => emulator.control.expireSession(421),
      },
      cleanup: () => emulator.stop(),
    };
  },
  unsupported: {
    write: READ_ONLY,
    unknownSizeWrites: READ_ONLY,
    rangedReads: `the suite's ranged-read files are written first; ${READ_ONLY}`,
    changeFeed: `the suite's change-feed test writes and removes files; ${READ_ONLY}`,
    serverSideCopy: 'iCloud Photos has no copy operation',
    faults: `the suite's fault test writes a file first; the same faults (429/503, expired session, expired URL) are driven through the emulator in the unit specs`,
  },
});
