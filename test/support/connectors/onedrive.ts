import type { Clock } from '../../../src/common/clock.js';
import type { ConnectorSecrets } from '../../../src/connectors/connector-descriptor.js';
import { OneDriveConnector } from '../../../src/connectors/onedrive/onedrive.connector.js';
import {
  FRAGMENT_ALIGNMENT,
  type OneDriveOptions,
} from '../../../src/connectors/onedrive/onedrive.options.js';
import { Pacer, type PacerOptions } from '../../../src/connectors/pacer/pacer.js';
import type { OneDriveEmulator } from '../../../emulators/onedrive/onedrive-emulator.js';

export interface OneDriveForTestOverrides extends Partial<OneDriveOptions> {
  clock?: Clock;
  pacer?: PacerOptions;
  saveSecrets?: (s: ConnectorSecrets) => Promise<void>;
}

/** A clock whose sleeps return at once (recorded), so Retry-After and backoff cost no time. */
export function instantClock(sleeps: number[] = []): Clock {
  return {
    now: () => new Date(),
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      await new Promise((r) => setImmediate(r));
    },
  };
}

/**
 * A OneDrive connector on the production code path, pointed at a running emulator: only the two
 * base URLs differ. Defaults suit tests: 320 KiB fragments, small pages, instant retries.
 */
export function createOneDriveForTest(
  emulator: OneDriveEmulator,
  overrides: OneDriveForTestOverrides = {},
): OneDriveConnector {
  const { clock: clockOverride, pacer: pacerOptions, saveSecrets, ...opts } = overrides;
  const clock = clockOverride ?? instantClock();
  const c = emulator.credentials;
  const options: OneDriveOptions = {
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    tenant: 'common',
    graphBaseUrl: emulator.baseUrl,
    authorityBaseUrl: emulator.baseUrl,
    listPageSize: 200,
    uploadFragmentSize: FRAGMENT_ALIGNMENT,
    refreshToken: c.refreshToken,
    accessToken: c.accessToken,
    accessTokenExpiresAt: c.accessTokenExpiresAt,
    ...opts,
  };
  return new OneDriveConnector(options, {
    clock,
    saveSecrets: saveSecrets ?? (async () => undefined),
    pacer: new Pacer({
      clock,
      backoff: { initialMs: 1, maxMs: 10, factor: 2, jitter: 0 },
      maxRetries: 6,
      ...pacerOptions,
    }),
  });
}
