import type { ConnectorDescriptor } from '../connector-descriptor.js';
import { LazyCloudConnector } from '../lazy-connector.js';
import { googleDriveOAuthFlow } from './google-drive.oauth.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_LIST_PAGE_SIZE,
  GOOGLE_DRIVE_CAPABILITIES,
  GOOGLE_DRIVE_OPTIONS,
  googleDriveCapabilities,
  toGoogleDriveOptions,
} from './google-drive.options.js';

export const googleDriveConnectorDescriptor: ConnectorDescriptor = {
  kind: 'google-drive',
  displayName: 'Google Drive',
  description:
    'My Drive or a shared drive, through the Drive API v3 with your own OAuth client. Google Docs, ' +
    'Sheets and Slides are exported as docx, xlsx and pptx.',
  options: GOOGLE_DRIVE_OPTIONS,
  capabilities: {
    ...GOOGLE_DRIVE_CAPABILITIES,
    uploadChunkSize: DEFAULT_CHUNK_SIZE,
    listPageSize: DEFAULT_LIST_PAGE_SIZE,
  },
  requestHosts: ['googleapis.com'],
  // Settings are checked now; googleapis is imported on the connector's first call.
  create: (settings, ctx) => {
    const o = toGoogleDriveOptions(settings.config, settings.secrets);
    return new LazyCloudConnector('google-drive', googleDriveCapabilities(o), async () =>
      (await import('./google-drive.factory.js')).createGoogleDriveConnector(o, ctx),
    );
  },
  oauth: googleDriveOAuthFlow,
};
