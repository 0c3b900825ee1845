import type { ConnectorDescriptor } from '../connector-descriptor.js';
import { LOCAL_CAPABILITIES, LocalConnector } from './local.connector.js';
import { LOCAL_OPTIONS } from './local.options.js';

export const localConnectorDescriptor: ConnectorDescriptor = {
  kind: 'local',
  displayName: 'Local or external drive',
  description: 'A folder on this machine, or on an external drive mounted on it.',
  options: LOCAL_OPTIONS,
  capabilities: LOCAL_CAPABILITIES,
  create: (settings, ctx) =>
    new LocalConnector(
      { root: String(settings.config.root), fsync: settings.config.fsync !== false },
      // The volume id is state the connector learns, kept with the account like rotated tokens.
      {
        knownId: settings.secrets.volumeId,
        remember: (volumeId) => ctx.saveSecrets({ volumeId }),
      },
    ),
};
