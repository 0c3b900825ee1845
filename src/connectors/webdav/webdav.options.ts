import type { Capabilities } from '../capabilities.js';
import type { OptionSpec } from '../connector-descriptor.js';

export const WEBDAV_AUTH_TYPES = ['basic', 'digest'] as const;
export type WebDavAuthType = (typeof WEBDAV_AUTH_TYPES)[number];

export const WEBDAV_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'url',
    label: 'Server URL',
    help: 'URL of the WebDAV folder, e.g. https://cloud.example.com/remote.php/dav/files/alice/ (Nextcloud) or https://nas.lan/webdav/.',
    type: 'string',
    target: 'server-url',
    required: true,
  },
  {
    key: 'username',
    label: 'User name',
    help: 'Account on the WebDAV server.',
    type: 'string',
    required: true,
  },
  {
    key: 'password',
    label: 'Password',
    help: 'Password (or an app password) of that account.',
    type: 'string',
    required: true,
    secret: true,
  },
  {
    key: 'authType',
    label: 'Authentication',
    help: 'HTTP authentication scheme the server asks for: basic (use it over HTTPS only) or digest.',
    type: 'string',
    default: 'basic',
    choices: WEBDAV_AUTH_TYPES,
  },
];

export interface WebDavConnectorOptions {
  /** Base URL, ending with '/'. */
  url: string;
  username: string;
  password: string;
  authType: WebDavAuthType;
}

export const WEBDAV_CAPABILITIES: Capabilities = {
  // Plain WebDAV reports no content hash (the ETag is opaque): sizes are what gets verified.
  hashes: [],
  rangedReads: true,
  changeFeed: false,
  serverSideCopy: false,
  writable: true,
  preservesModifiedTime: false,
};
