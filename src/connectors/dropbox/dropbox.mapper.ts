import type { ConnectorPath, Entry } from '../connector.js';
import { FatalError } from '../connector.errors.js';
import type { DropboxFileMetadata, DropboxFolderMetadata, DropboxMetadata } from './api/types.js';

/** Connector path ('a/b', root '') -> Dropbox path ('/a/b', root is the empty string, not '/'). */
export function toDropboxPath(path: ConnectorPath): string {
  return path === '' ? '' : `/${path}`;
}

/**
 * A `path_display` ('/Photos/2024/x.jpg') relative to the folder the feed watches, as a connector
 * path. Only the last component's case is guaranteed by Dropbox, so the prefix is dropped by
 * component count, not by string comparison.
 */
export function relativeDisplayPath(m: DropboxMetadata, watchedDir: ConnectorPath): ConnectorPath {
  const display = m.path_display ?? m.path_lower;
  if (display === undefined) throw new FatalError(`Dropbox entry '${m.name}' carries no path`);
  const parts = display.split('/').filter((p) => p !== '');
  const skip = watchedDir === '' ? 0 : watchedDir.split('/').length;
  parts[parts.length - 1] = m.name; // the name has the display case for sure
  return parts.slice(skip).join('/');
}

/** Dropbox times are UTC with whole seconds: '2024-05-01T10:00:00Z'. */
export function toDropboxTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toEntry(
  path: ConnectorPath,
  m: DropboxFileMetadata | DropboxFolderMetadata,
): Entry {
  if (m['.tag'] === 'folder') {
    return { path, name: m.name, kind: 'folder', id: m.id, hashes: {} };
  }
  return {
    path,
    name: m.name,
    kind: 'file',
    id: m.id,
    size: m.size,
    // client_modified is what `write` sets from the source; server_modified is upload time.
    modifiedAt: new Date(m.client_modified),
    hashes: m.content_hash ? { dropbox: m.content_hash } : {},
    extras: { rev: m.rev, serverModified: m.server_modified },
  };
}

export function rootEntry(): Entry {
  return { path: '', name: '', kind: 'folder', hashes: {} };
}
