import type { Capabilities } from '../capabilities.js';
import type { ConnectorSettings, OptionSpec } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';

export const MiB = 1024 * 1024;
/** Dropbox hashes in 4 MiB blocks and asks for upload chunks that are multiples of it. */
export const DROPBOX_BLOCK = 4 * MiB;
/** Per-request body cap of the content host (files/upload, every session call). */
export const DROPBOX_MAX_REQUEST_BYTES = 150 * MiB;
/** Upload sessions accept up to 350 GB per file. */
export const DROPBOX_MAX_FILE_SIZE = 350 * 1000 ** 3;
export const DEFAULT_UPLOAD_CHUNK_SIZE = 8 * MiB;
export const DEFAULT_LIST_PAGE_SIZE = 1000;

/** Here rather than beside the connector: the descriptor needs them without loading the SDK. */
export function dropboxCapabilities(
  uploadChunkSize = DEFAULT_UPLOAD_CHUNK_SIZE,
  listPageSize = DEFAULT_LIST_PAGE_SIZE,
): Capabilities {
  return {
    hashes: ['dropbox'],
    // uploadFile(): the content hash of the bytes sent against the one Dropbox commits.
    verifiesWrites: 'dropbox',
    rangedReads: true,
    changeFeed: true,
    serverSideCopy: true,
    writable: true,
    preservesModifiedTime: true,
    maxFileSize: DROPBOX_MAX_FILE_SIZE,
    uploadChunkSize,
    listPageSize,
  };
}

export const DROPBOX_CAPABILITIES = dropboxCapabilities();

export const DROPBOX_API_BASE_URL = 'https://api.dropboxapi.com';
export const DROPBOX_CONTENT_BASE_URL = 'https://content.dropboxapi.com';
export const DROPBOX_NOTIFY_BASE_URL = 'https://notify.dropboxapi.com';
export const DROPBOX_AUTHORIZE_BASE_URL = 'https://www.dropbox.com';

/** Scopes a backup app needs: read and write file content and metadata. */
export const DROPBOX_SCOPES = [
  'account_info.read',
  'files.metadata.read',
  'files.metadata.write',
  'files.content.read',
  'files.content.write',
];

export const DROPBOX_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'clientId',
    label: 'App key',
    help: 'App key of your own Dropbox app (dropbox.com/developers/apps), with the files.* scopes enabled.',
    type: 'string',
    required: true,
  },
  {
    key: 'clientSecret',
    label: 'App secret',
    help: 'App secret of that app. Optional: without it the account is linked with PKCE only.',
    type: 'string',
    secret: true,
  },
  {
    key: 'refreshToken',
    label: 'Refresh token',
    help: 'Set by "Connect with Dropbox"; long-lived, does not rotate.',
    type: 'string',
    secret: true,
  },
  {
    key: 'accessToken',
    label: 'Access token',
    help: 'Short-lived (4 h) token, refreshed automatically.',
    type: 'string',
    secret: true,
    advanced: true,
  },
  {
    key: 'accessTokenExpiresAt',
    label: 'Access token expiry',
    help: 'ISO time at which the access token expires.',
    type: 'string',
    secret: true,
    advanced: true,
  },
  {
    key: 'uploadChunkSize',
    label: 'Upload chunk size (bytes)',
    help: 'Bytes per upload-session request; a multiple of 4 MiB, at most 150 MiB. Memory per transfer is bounded by it.',
    type: 'number',
    default: DEFAULT_UPLOAD_CHUNK_SIZE,
    advanced: true,
  },
  {
    key: 'listPageSize',
    label: 'Listing page size',
    help: 'Entries per list_folder page (1 to 2000).',
    type: 'number',
    default: DEFAULT_LIST_PAGE_SIZE,
    advanced: true,
  },
  {
    key: 'apiBaseUrl',
    label: 'API host',
    help: 'Base URL of the RPC host (api.dropboxapi.com).',
    type: 'string',
    target: 'admin-endpoint',
    default: DROPBOX_API_BASE_URL,
    advanced: true,
  },
  {
    key: 'contentBaseUrl',
    label: 'Content host',
    help: 'Base URL of the upload/download host (content.dropboxapi.com).',
    type: 'string',
    target: 'admin-endpoint',
    default: DROPBOX_CONTENT_BASE_URL,
    advanced: true,
  },
  {
    key: 'notifyBaseUrl',
    label: 'Notify host',
    help: 'Base URL of the long-poll host (notify.dropboxapi.com).',
    type: 'string',
    target: 'admin-endpoint',
    default: DROPBOX_NOTIFY_BASE_URL,
    advanced: true,
  },
  {
    key: 'authorizeBaseUrl',
    label: 'Consent page host',
    help: 'Base URL of the OAuth consent page (www.dropbox.com).',
    type: 'string',
    target: 'admin-endpoint',
    default: DROPBOX_AUTHORIZE_BASE_URL,
    advanced: true,
  },
];

/** Base URLs of the three API hosts; only these differ between production and an emulator. */
export interface DropboxHosts {
  api: string;
  content: string;
  notify: string;
}

export interface DropboxTokens {
  refreshToken?: string;
  accessToken?: string;
  accessTokenExpiresAt?: Date;
}

export interface DropboxConnectorOptions {
  clientId: string;
  clientSecret?: string;
  tokens: DropboxTokens;
  hosts: DropboxHosts;
  uploadChunkSize: number;
  listPageSize: number;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Turns stored settings into typed options, failing fast on values Dropbox would refuse. */
export function dropboxOptionsFrom(settings: ConnectorSettings): DropboxConnectorOptions {
  const { config, secrets } = settings;
  const clientId = text(config.clientId);
  if (!clientId) throw new FatalError('dropbox: the app key (clientId) is required');
  const chunk = Number(config.uploadChunkSize ?? DEFAULT_UPLOAD_CHUNK_SIZE);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > DROPBOX_MAX_REQUEST_BYTES) {
    throw new FatalError(
      `dropbox: uploadChunkSize must be 1..${DROPBOX_MAX_REQUEST_BYTES} bytes (a multiple of 4 MiB is best)`,
    );
  }
  const page = Number(config.listPageSize ?? DEFAULT_LIST_PAGE_SIZE);
  if (!Number.isInteger(page) || page < 1 || page > 2000)
    throw new FatalError('dropbox: listPageSize must be 1..2000');
  const expires = text(secrets.accessTokenExpiresAt);
  return {
    clientId,
    clientSecret: text(secrets.clientSecret) ?? text(config.clientSecret),
    tokens: {
      refreshToken: text(secrets.refreshToken),
      accessToken: text(secrets.accessToken),
      accessTokenExpiresAt: expires ? new Date(expires) : undefined,
    },
    hosts: {
      api: text(config.apiBaseUrl) ?? DROPBOX_API_BASE_URL,
      content: text(config.contentBaseUrl) ?? DROPBOX_CONTENT_BASE_URL,
      notify: text(config.notifyBaseUrl) ?? DROPBOX_NOTIFY_BASE_URL,
    },
    uploadChunkSize: chunk,
    listPageSize: page,
  };
}
