/** Microsoft Graph v1.0 wire types: only the fields the connector reads. */

export interface GraphDriveItem {
  id: string;
  name?: string;
  eTag?: string;
  cTag?: string;
  size?: number;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  fileSystemInfo?: { createdDateTime?: string; lastModifiedDateTime?: string };
  parentReference?: {
    driveId?: string;
    driveType?: string;
    id?: string;
    path?: string;
    siteId?: string;
  };
  file?: {
    mimeType?: string;
    hashes?: { quickXorHash?: string; sha1Hash?: string; sha256Hash?: string; crc32Hash?: string };
  };
  folder?: { childCount?: number };
  package?: { type?: string };
  root?: Record<string, never>;
  deleted?: { state?: string };
  remoteItem?: unknown;
  '@microsoft.graph.downloadUrl'?: string;
}

export interface GraphCollection<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export interface GraphDrive {
  id: string;
  driveType?: string;
  quota?: { total?: number; used?: number; remaining?: number; state?: string };
}

export interface UploadSessionInfo {
  uploadUrl?: string;
  expirationDateTime?: string;
  nextExpectedRanges?: string[];
}

export interface CopyMonitorStatus {
  status?:
    'notStarted' | 'inProgress' | 'completed' | 'failed' | 'waiting' | 'deletePending' | 'updating';
  resourceId?: string;
  percentageComplete?: number;
  error?: { code?: string; message?: string };
}

export interface TokenResponse {
  token_type?: string;
  scope?: string;
  expires_in?: number;
  access_token?: string;
  refresh_token?: string;
  error?: string;
  error_description?: string;
  error_codes?: number[];
}
