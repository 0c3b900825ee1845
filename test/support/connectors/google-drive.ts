import type {
  ConnectorConfig,
  ConnectorSecrets,
} from '../../../src/connectors/connector-descriptor.js';
import { GoogleDriveConnector } from '../../../src/connectors/google-drive/google-drive.connector.js';
import { toGoogleDriveOptions } from '../../../src/connectors/google-drive/google-drive.options.js';
import { Pacer, type PacerOptions } from '../../../src/connectors/pacer/pacer.js';
import type { GoogleDriveEmulator } from '../../../emulators/google-drive/google-drive.emulator.js';

export interface GoogleDriveTestOverrides {
  /** Connector options (config keys of the descriptor), e.g. { uploadChunkSize: 262144 }. */
  config?: ConnectorConfig;
  secrets?: ConnectorSecrets;
  /** Pacer settings; tests default to fast backoff. */
  pacer?: PacerOptions;
  saveSecrets?: (s: ConnectorSecrets) => Promise<void>;
}

/** A connector pointed at a running emulator, with its credentials and the smallest chunk size. */
export function createGoogleDriveForTest(
  emulator: GoogleDriveEmulator,
  overrides: GoogleDriveTestOverrides = {},
): GoogleDriveConnector {
  const c = emulator.credentials;
  const config: ConnectorConfig = {
    clientId: c.clientId,
    apiBaseUrl: c.apiBaseUrl,
    tokenUrl: c.tokenUrl,
    authorizeUrl: c.authorizeUrl,
    revokeUrl: c.revokeUrl,
    uploadChunkSize: 256 * 1024,
    listPageSize: 1000,
    ...overrides.config,
  };
  const secrets: ConnectorSecrets = {
    clientSecret: c.clientSecret,
    refreshToken: c.refreshToken,
    accessToken: c.accessToken,
    accessTokenExpiresAt: String(c.accessTokenExpiresAt),
    ...overrides.secrets,
  };
  return new GoogleDriveConnector(toGoogleDriveOptions(config, secrets), {
    saveSecrets: overrides.saveSecrets,
    pacer: new Pacer({
      maxRetries: 6,
      backoff: { initialMs: 5, maxMs: 50, factor: 2, jitter: 0 },
      ...overrides.pacer,
    }),
  });
}
