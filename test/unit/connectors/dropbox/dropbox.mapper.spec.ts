import {
  relativeDisplayPath,
  toDropboxPath,
  toDropboxTime,
  toEntry,
} from '../../../../src/connectors/dropbox/dropbox.mapper.js';

describe('dropbox mapper', () => {
  it('should map the root to the empty string, not "/"', () => {
    expect(toDropboxPath('')).toBe('');
    expect(toDropboxPath('a/b c.txt')).toBe('/a/b c.txt');
  });

  it('should drop milliseconds when formatting client_modified', () => {
    expect(toDropboxTime(new Date('2024-05-01T10:00:00.789Z'))).toBe('2024-05-01T10:00:00Z');
  });

  it('should map a file with its content hash, id, size and client_modified', () => {
    const sut = toEntry('Docs/a.txt', {
      '.tag': 'file',
      name: 'a.txt',
      id: 'id:abc',
      rev: '0123456789',
      size: 5,
      client_modified: '2023-01-02T03:04:05Z',
      server_modified: '2024-01-01T00:00:00Z',
      content_hash: 'ff'.repeat(32),
    });
    expect(sut).toEqual({
      path: 'Docs/a.txt',
      name: 'a.txt',
      kind: 'file',
      id: 'id:abc',
      size: 5,
      modifiedAt: new Date('2023-01-02T03:04:05Z'),
      hashes: { dropbox: 'ff'.repeat(32) },
      extras: { rev: '0123456789', serverModified: '2024-01-01T00:00:00Z' },
    });
  });

  it('should map a folder without size or hashes', () => {
    expect(toEntry('X', { '.tag': 'folder', name: 'X', id: 'id:f' })).toEqual({
      path: 'X',
      name: 'X',
      kind: 'folder',
      id: 'id:f',
      hashes: {},
    });
  });

  it('should strip the watched folder by component count when its display case differs', () => {
    const m = {
      '.tag': 'deleted' as const,
      name: 'Été.txt',
      path_lower: '/photos/2024/été.txt',
      path_display: '/PHOTOS/2024/été.txt',
    };
    expect(relativeDisplayPath(m, 'Photos')).toBe('2024/Été.txt');
    expect(relativeDisplayPath(m, '')).toBe('PHOTOS/2024/Été.txt');
  });
});
