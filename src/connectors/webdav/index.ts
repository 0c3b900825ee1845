import type { ConnectorDescriptor, ConnectorSettings } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';
import { LazyConnector } from '../lazy-connector.js';
import {
  WEBDAV_AUTH_TYPES,
  WEBDAV_CAPABILITIES,
  WEBDAV_OPTIONS,
  type WebDavAuthType,
  type WebDavConnectorOptions,
} from './webdav.options.js';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Turns stored settings into typed options, failing fast on what cannot work. */
export function webDavOptionsFrom(settings: ConnectorSettings): WebDavConnectorOptions {
  const { config, secrets } = settings;
  const raw = text(config.url);
  if (!raw || !/^https?:\/\/[^/]/.test(raw))
    throw new FatalError('webdav: the server URL must be an http(s) URL');
  const username = text(config.username);
  const password = text(secrets.password) ?? text(config.password);
  if (!username || password === undefined)
    throw new FatalError('webdav: the user name and the password are required');
  const authType = (text(config.authType) ?? 'basic') as WebDavAuthType;
  if (!WEBDAV_AUTH_TYPES.includes(authType))
    throw new FatalError(`webdav: authType must be one of ${WEBDAV_AUTH_TYPES.join(', ')}`);
  return { url: raw.endsWith('/') ? raw : `${raw}/`, username, password, authType };
}

export const webDavConnectorDescriptor: ConnectorDescriptor = {
  kind: 'webdav',
  displayName: 'WebDAV',
  description: 'A WebDAV server: Nextcloud, ownCloud, a NAS, Apache or nginx with WebDAV...',
  options: WEBDAV_OPTIONS,
  capabilities: WEBDAV_CAPABILITIES,
  // Settings are checked now; the webdav package is imported on the connector's first call.
  create: (settings, ctx) => {
    webDavOptionsFrom(settings);
    return new LazyConnector('webdav', WEBDAV_CAPABILITIES, async () =>
      (await import('./webdav.factory.js')).createWebDavConnector(settings, ctx),
    );
  },
};
