import type { Capabilities } from '../capabilities.js';
import type { ConnectorConfig, ConnectorSecrets, OptionSpec } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';

/** Upload-session fragments must be multiples of 320 KiB (protocols/onedrive.md section 7). */
export const FRAGMENT_ALIGNMENT = 320 * 1024;
/** And under 60 MiB each. */
export const MAX_FRAGMENT_SIZE = 60 * 1024 * 1024;
/** 32 x 320 KiB: big enough for throughput, small enough for K parallel transfers. */
export const DEFAULT_FRAGMENT_SIZE = 32 * FRAGMENT_ALIGNMENT;
/** Simple PUT /content is used up to this size (and never above the fragment size). */
export const SIMPLE_UPLOAD_MAX = 4 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 200;
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';
export const DEFAULT_AUTHORITY_BASE_URL = 'https://login.microsoftonline.com';
/** Delegated scopes: offline_access is what yields a refresh token. */
export const ONEDRIVE_SCOPES = 'offline_access Files.ReadWrite.All';

/** Here rather than beside the connector: the descriptor needs them without loading the Graph client. */
export const ONEDRIVE_CAPABILITIES: Capabilities = {
  hashes: ['quickXor'],
  // verify(): the quickXorHash of the bytes sent against the one Graph reports for the item.
  verifiesWrites: 'quickXor',
  rangedReads: true,
  changeFeed: true,
  serverSideCopy: true,
  writable: true,
  preservesModifiedTime: true,
  // 250 GB per file (OneDrive / SharePoint limit).
  maxFileSize: 250 * 1000 ** 3,
  uploadChunkSize: 32 * 320 * 1024,
  listPageSize: 200,
};

/** The capabilities of a connector with these options (its fragment and page sizes). */
export function oneDriveCapabilities(
  o: Pick<OneDriveOptions, 'uploadFragmentSize' | 'listPageSize'>,
): Capabilities {
  return {
    ...ONEDRIVE_CAPABILITIES,
    uploadChunkSize: o.uploadFragmentSize,
    listPageSize: o.listPageSize,
  };
}

export const ONEDRIVE_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'clientId',
    label: 'Application (client) ID',
    help: 'The client id of your own app registration in Microsoft Entra ID (Azure portal > App registrations).',
    type: 'string',
    required: true,
  },
  {
    key: 'clientSecret',
    label: 'Client secret',
    help: 'Only for confidential (web) app registrations; leave empty for a public client, which uses PKCE.',
    type: 'string',
    secret: true,
  },
  {
    key: 'tenant',
    label: 'Tenant',
    help: "'common' (work and personal accounts), 'organizations', 'consumers', or a tenant id / domain.",
    type: 'string',
    default: 'common',
    advanced: true,
  },
  {
    key: 'driveId',
    label: 'Drive id',
    help: "A SharePoint document library or another drive, by its Graph drive id; empty for the user's own OneDrive.",
    type: 'string',
  },
  {
    key: 'graphBaseUrl',
    label: 'Graph base URL',
    help: 'Microsoft Graph host, e.g. https://graph.microsoft.us for US Government or https://microsoftgraph.chinacloudapi.cn for 21Vianet.',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_GRAPH_BASE_URL,
    advanced: true,
  },
  {
    key: 'authorityBaseUrl',
    label: 'Sign-in authority URL',
    help: 'Microsoft identity platform host, e.g. https://login.microsoftonline.us or https://login.chinacloudapi.cn.',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_AUTHORITY_BASE_URL,
    advanced: true,
  },
  {
    key: 'listPageSize',
    label: 'Listing page size',
    help: 'Items per children/delta page ($top).',
    type: 'number',
    default: DEFAULT_PAGE_SIZE,
    advanced: true,
  },
  {
    key: 'uploadFragmentSize',
    label: 'Upload fragment size (bytes)',
    help: 'Bytes per upload-session PUT: a multiple of 327,680 (320 KiB), under 60 MiB. Memory per transfer is about this much.',
    type: 'number',
    default: DEFAULT_FRAGMENT_SIZE,
    advanced: true,
  },
  {
    key: 'refreshToken',
    label: 'Refresh token',
    help: 'Stored by the sign-in flow.',
    type: 'string',
    secret: true,
  },
  {
    key: 'accessToken',
    label: 'Access token',
    help: 'Stored by the sign-in flow.',
    type: 'string',
    secret: true,
  },
  {
    key: 'accessTokenExpiresAt',
    label: 'Access token expiry',
    help: 'Epoch milliseconds; stored by the sign-in flow.',
    type: 'string',
    secret: true,
  },
];

export interface OneDriveOptions {
  clientId: string;
  clientSecret?: string;
  tenant: string;
  driveId?: string;
  graphBaseUrl: string;
  authorityBaseUrl: string;
  listPageSize: number;
  uploadFragmentSize: number;
  refreshToken: string;
  accessToken?: string;
  /** Epoch ms. */
  accessTokenExpiresAt?: number;
}

/** Typed options from stored settings; refuses what would fail later in a confusing way. */
export function parseOneDriveOptions(
  config: ConnectorConfig,
  secrets: ConnectorSecrets,
): OneDriveOptions {
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  const num = (v: unknown, d: number): number =>
    typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : d;
  const clientId = str(config.clientId);
  if (!clientId) throw new FatalError('onedrive: clientId is required');
  const refreshToken = str(secrets.refreshToken);
  if (!refreshToken)
    throw new FatalError('onedrive: no refresh token stored; connect the account first');
  const uploadFragmentSize = num(config.uploadFragmentSize, DEFAULT_FRAGMENT_SIZE);
  if (
    !Number.isInteger(uploadFragmentSize) ||
    uploadFragmentSize <= 0 ||
    uploadFragmentSize % FRAGMENT_ALIGNMENT !== 0 ||
    uploadFragmentSize > MAX_FRAGMENT_SIZE
  ) {
    throw new FatalError(
      `onedrive: uploadFragmentSize must be a multiple of ${FRAGMENT_ALIGNMENT} bytes and at most 60 MiB`,
    );
  }
  const listPageSize = num(config.listPageSize, DEFAULT_PAGE_SIZE);
  if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
    throw new FatalError('onedrive: listPageSize must be between 1 and 1000');
  }
  const expires = str(secrets.accessTokenExpiresAt);
  return {
    clientId,
    clientSecret: str(secrets.clientSecret),
    tenant: str(config.tenant) ?? 'common',
    driveId: str(config.driveId),
    graphBaseUrl: trimSlash(str(config.graphBaseUrl) ?? DEFAULT_GRAPH_BASE_URL),
    authorityBaseUrl: trimSlash(str(config.authorityBaseUrl) ?? DEFAULT_AUTHORITY_BASE_URL),
    listPageSize,
    uploadFragmentSize,
    refreshToken,
    accessToken: str(secrets.accessToken),
    accessTokenExpiresAt: expires === undefined ? undefined : Number(expires),
  };
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
