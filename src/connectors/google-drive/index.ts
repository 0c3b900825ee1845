import type { ConnectorDescriptor } from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { GOOGLE_DRIVE_CAPABILITIES, GoogleDriveConnector } from './google-drive.connector.js';
import { googleDriveOAuthFlow } from './google-drive.oauth.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_LIST_PAGE_SIZE,
  GOOGLE_DRIVE_OPTIONS,
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
  create: (settings, ctx) =>
    new GoogleDriveConnector(toGoogleDriveOptions(settings.config, settings.secrets), {
      clock: ctx.clock,
      saveSecrets: (s) => ctx.saveSecrets(s),
      pacer: new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry }),
    }),
  oauth: googleDriveOAuthFlow,
};
