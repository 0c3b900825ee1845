/** Wire shapes of the Dropbox API v2 that this connector reads (protocols/dropbox.md). */

export interface DropboxFileMetadata {
  '.tag': 'file';
  name: string;
  id: string;
  path_lower?: string;
  path_display?: string;
  rev: string;
  size: number;
  client_modified: string;
  server_modified: string;
  content_hash?: string;
  is_downloadable?: boolean;
}

export interface DropboxFolderMetadata {
  '.tag': 'folder';
  name: string;
  id: string;
  path_lower?: string;
  path_display?: string;
}

/** Deleted entries carry no id: key local state by path_lower too. */
export interface DropboxDeletedMetadata {
  '.tag': 'deleted';
  name: string;
  path_lower?: string;
  path_display?: string;
}

export type DropboxMetadata = DropboxFileMetadata | DropboxFolderMetadata | DropboxDeletedMetadata;

export interface DropboxListFolderResult {
  entries: DropboxMetadata[];
  cursor: string;
  has_more: boolean;
}

/** An endpoint error body: `error_summary` ends in a varying run of dots, match by prefix. */
export interface DropboxErrorBody {
  error_summary?: string;
  error?: Record<string, unknown> & { '.tag'?: string };
  user_message?: unknown;
}

/** OAuth token endpoint answers. */
export interface DropboxTokenResponse {
  access_token: string;
  expires_in: number;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  account_id?: string;
  uid?: string;
}

export interface DropboxOAuthErrorBody {
  error: string;
  error_description?: string;
}
