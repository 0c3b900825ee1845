import { InvalidPathError, parseRetryAfter } from '../../../src/connectors/connector.errors.js';
import {
  baseName,
  extensionOf,
  joinPath,
  normalizePath,
  parentPath,
  relativeTo,
} from '../../../src/connectors/path.js';

describe('normalizePath', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['/a//b/', 'a/b'],
    ['Photos/2024/été ☀ #1 100%.jpg', 'Photos/2024/été ☀ #1 100%.jpg'],
  ])('should turn %j into %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it.each([
    ['../etc/passwd'],
    ['a/../../b'],
    ['./a'],
    ['a\u0000b'],
    ['a\nb'],
    ['a\\b'],
    ['x'.repeat(256)],
  ])('should refuse %j', (input) => {
    expect(() => normalizePath(input)).toThrow(InvalidPathError);
  });
});

describe('path helpers', () => {
  it('should split and join paths', () => {
    expect(joinPath('a', '', 'b/c')).toBe('a/b/c');
    expect(parentPath('a/b/c')).toBe('a/b');
    expect(parentPath('c')).toBe('');
    expect(baseName('a/b/c.txt')).toBe('c.txt');
  });

  it('should resolve a path relative to a root only when it lies inside', () => {
    expect(relativeTo('a', 'a/b')).toBe('b');
    expect(relativeTo('a', 'ab/c')).toBeUndefined();
    expect(relativeTo('', 'x')).toBe('x');
    expect(relativeTo('a', 'a')).toBe('');
  });

  it('should read extensions case-insensitively and ignore dot-files', () => {
    expect(extensionOf('IMG_1.HEIC')).toBe('heic');
    expect(extensionOf('a/b.tar.gz')).toBe('gz');
    expect(extensionOf('.bashrc')).toBe('');
    expect(extensionOf('README')).toBe('');
  });
});

describe('parseRetryAfter', () => {
  it('should read seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
