import type { Capabilities } from '../capabilities.js';
import type { ConnectorConfig, ConnectorSecrets, OptionSpec } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';

export const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive';
export const DEFAULT_API_BASE_URL = 'https://www.googleapis.com';
export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const DEFAULT_AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const DEFAULT_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';

/** Every resumable chunk but the last must be a multiple of this (protocols/google-drive.md 7). */
export const UPLOAD_ALIGNMENT = 256 * 1024;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
export const DEFAULT_LIST_PAGE_SIZE = 1000;

export type ExportFormat = 'docx' | 'xlsx' | 'pptx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['docx', 'xlsx', 'pptx'];

/** Here rather than beside the connector: the descriptor needs them without loading googleapis. */
export const GOOGLE_DRIVE_CAPABILITIES: Capabilities = {
  hashes: ['md5', 'sha1', 'sha256'],
  rangedReads: true,
  changeFeed: true,
  serverSideCopy: true,
  writable: true,
  preservesModifiedTime: true,
  maxFileSize: 5 * 1024 ** 4,
};

/** The capabilities of a connector with these options (its chunk and page sizes). */
export function googleDriveCapabilities(
  o: Pick<GoogleDriveOptions, 'uploadChunkSize' | 'listPageSize'>,
): Capabilities {
  return {
    ...GOOGLE_DRIVE_CAPABILITIES,
    uploadChunkSize: o.uploadChunkSize,
    listPageSize: o.listPageSize,
  };
}

export const GOOGLE_DRIVE_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'clientId',
    label: 'OAuth client id',
    help: 'Client id of your own Google Cloud OAuth client (type "Desktop" or "Web"), e.g. 1234-abc.apps.googleusercontent.com.',
    type: 'string',
    required: true,
  },
  {
    key: 'clientSecret',
    label: 'OAuth client secret',
    help: 'Secret of the same OAuth client.',
    type: 'string',
    required: true,
    secret: true,
  },
  {
    key: 'sharedDriveId',
    label: 'Shared drive id',
    help: 'Id of a shared drive to use instead of My Drive; empty for My Drive.',
    type: 'string',
    default: '',
  },
  {
    key: 'exportFormats',
    label: 'Export Google documents as',
    help:
      'Comma-separated office formats Google Docs/Sheets/Slides are exported to (docx, xlsx, pptx). ' +
      'Documents whose format is not listed are skipped and reported; "none" skips them all.',
    type: 'string',
    default: 'docx,xlsx,pptx',
  },
  {
    key: 'useTrash',
    label: 'Move removed files to the trash',
    help: 'When set, removing a file trashes it (recoverable for 30 days) instead of deleting it for good.',
    type: 'boolean',
    default: false,
    advanced: true,
  },
  {
    key: 'uploadChunkSize',
    label: 'Upload chunk size (bytes)',
    help: 'Bytes per resumable upload request; a multiple of 262144 (256 KiB). Memory per upload is about one chunk.',
    type: 'number',
    default: DEFAULT_CHUNK_SIZE,
    advanced: true,
  },
  {
    key: 'listPageSize',
    label: 'Listing page size',
    help: 'Files requested per listing page (1-1000).',
    type: 'number',
    default: DEFAULT_LIST_PAGE_SIZE,
    advanced: true,
  },
  {
    key: 'apiBaseUrl',
    label: 'API base URL',
    help: 'Origin of the Drive API and upload endpoints (for a local emulator).',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_API_BASE_URL,
    advanced: true,
  },
  {
    key: 'tokenUrl',
    label: 'OAuth token URL',
    help: 'Token endpoint (for a local emulator).',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_TOKEN_URL,
    advanced: true,
  },
  {
    key: 'authorizeUrl',
    label: 'OAuth consent page URL',
    help: 'Consent page (for a local emulator).',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_AUTHORIZE_URL,
    advanced: true,
  },
  {
    key: 'revokeUrl',
    label: 'OAuth revoke URL',
    help: 'Token revocation endpoint (for a local emulator).',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_REVOKE_URL,
    advanced: true,
  },
  {
    key: 'refreshToken',
    label: 'Refresh token',
    help: 'Set by the "Connect" flow.',
    type: 'string',
    secret: true,
    advanced: true,
  },
  {
    key: 'accessToken',
    label: 'Access token',
    help: 'Set by the "Connect" flow and refreshed automatically.',
    type: 'string',
    secret: true,
    advanced: true,
  },
  {
    key: 'accessTokenExpiresAt',
    label: 'Access token expiry (epoch ms)',
    help: 'Set by the "Connect" flow and refreshed automatically.',
    type: 'string',
    secret: true,
    advanced: true,
  },
];

export interface GoogleDriveOptions {
  clientId: string;
  clientSecret: string;
  refreshToken?: string;
  accessToken?: string;
  /** Epoch ms. */
  accessTokenExpiresAt?: number;
  /** Empty: My Drive. */
  sharedDriveId: string;
  exportFormats: readonly ExportFormat[];
  useTrash: boolean;
  uploadChunkSize: number;
  listPageSize: number;
  apiBaseUrl: string;
  tokenUrl: string;
  authorizeUrl: string;
  revokeUrl: string;
}

export function parseExportFormats(raw: string): ExportFormat[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'none');
  for (const p of parts) {
    if (!EXPORT_FORMATS.includes(p as ExportFormat)) {
      throw new FatalError(
        `google-drive: unknown export format '${p}' (allowed: ${EXPORT_FORMATS.join(', ')}, none)`,
      );
    }
  }
  return parts as ExportFormat[];
}

/** Typed options from stored settings; refuses chunk sizes Google would reject. */
export function toGoogleDriveOptions(
  config: ConnectorConfig,
  secrets: ConnectorSecrets,
): GoogleDriveOptions {
  const str = (k: string, d = ''): string => {
    const v = config[k] ?? secrets[k];
    return v === undefined || v === '' ? d : String(v);
  };
  const num = (k: string, d: number): number => {
    const v = config[k];
    return v === undefined || v === '' ? d : Number(v);
  };
  const chunk = num('uploadChunkSize', DEFAULT_CHUNK_SIZE);
  if (!Number.isInteger(chunk) || chunk <= 0 || chunk % UPLOAD_ALIGNMENT !== 0) {
    throw new FatalError(
      `google-drive: uploadChunkSize must be a positive multiple of ${UPLOAD_ALIGNMENT}, got ${chunk}`,
    );
  }
  const page = num('listPageSize', DEFAULT_LIST_PAGE_SIZE);
  if (!Number.isInteger(page) || page < 1 || page > 1000) {
    throw new FatalError(`google-drive: listPageSize must be between 1 and 1000, got ${page}`);
  }
  const expiresAt = secrets.accessTokenExpiresAt ? Number(secrets.accessTokenExpiresAt) : undefined;
  return {
    clientId: str('clientId'),
    clientSecret: secrets.clientSecret ?? str('clientSecret'),
    refreshToken: secrets.refreshToken || undefined,
    accessToken: secrets.accessToken || undefined,
    accessTokenExpiresAt:
      expiresAt !== undefined && Number.isFinite(expiresAt) ? expiresAt : undefined,
    sharedDriveId: str('sharedDriveId'),
    exportFormats: parseExportFormats(str('exportFormats', 'docx,xlsx,pptx')),
    useTrash: config.useTrash === true,
    uploadChunkSize: chunk,
    listPageSize: page,
    apiBaseUrl: str('apiBaseUrl', DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
    tokenUrl: str('tokenUrl', DEFAULT_TOKEN_URL),
    authorizeUrl: str('authorizeUrl', DEFAULT_AUTHORIZE_URL),
    revokeUrl: str('revokeUrl', DEFAULT_REVOKE_URL),
  };
}
