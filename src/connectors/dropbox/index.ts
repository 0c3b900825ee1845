import type { ConnectorDescriptor } from '../connector-descriptor.js';
import { LazyCloudConnector } from '../lazy-connector.js';
import { createDropboxOAuthFlow } from './dropbox.oauth.js';
import {
  DROPBOX_CAPABILITIES,
  DROPBOX_OPTIONS,
  dropboxCapabilities,
  dropboxOptionsFrom,
} from './dropbox.options.js';

export { dropboxOptionsFrom };

export const dropboxConnectorDescriptor: ConnectorDescriptor = {
  kind: 'dropbox',
  displayName: 'Dropbox',
  description: 'A Dropbox account, through your own Dropbox app (API v2).',
  options: DROPBOX_OPTIONS,
  capabilities: DROPBOX_CAPABILITIES,
  // Settings are checked now; the Dropbox SDK is imported on the connector's first call.
  create: (settings, ctx) => {
    const o = dropboxOptionsFrom(settings);
    return new LazyCloudConnector(
      'dropbox',
      dropboxCapabilities(o.uploadChunkSize, o.listPageSize),
      async () => (await import('./dropbox.factory.js')).createDropboxConnector(settings, ctx),
    );
  },
  oauth: createDropboxOAuthFlow(),
};
