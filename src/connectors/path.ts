import { InvalidPathError } from './connector.errors.js';
import type { ConnectorPath } from './connector.js';

/** Longest single name most providers and file systems accept, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;

/**
 * Turns user or provider input ('/a//b/', 'a/b') into the contract's form ('a/b'). Refuses what
 * could escape a root or that no provider stores: '..' and '.' segments, NUL and other control
 * characters, backslashes, names over 255 bytes.
 */
export function normalizePath(input: string): ConnectorPath {
  if (typeof input !== 'string') throw new InvalidPathError('path must be a string');
  const parts = input.split('/').filter((p) => p !== '');
  for (const part of parts) assertValidName(part, input);
  return parts.join('/');
}

export function assertValidName(name: string, context = name): void {
  if (name === '.' || name === '..') {
    throw new InvalidPathError(`path '${context}' contains a '${name}' segment`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidPathError(`path '${printable(context)}' contains a control character`);
  }
  if (name.includes('\\')) throw new InvalidPathError(`path '${context}' contains a backslash`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw new InvalidPathError(
      `name '${name.slice(0, 40)}...' is longer than ${MAX_NAME_BYTES} bytes`,
    );
  }
}

export function joinPath(...parts: string[]): ConnectorPath {
  return normalizePath(parts.filter((p) => p !== '').join('/'));
}

export function parentPath(path: ConnectorPath): ConnectorPath {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: ConnectorPath): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Path of `path` relative to `root`, or undefined when it lies outside. */
export function relativeTo(root: ConnectorPath, path: ConnectorPath): ConnectorPath | undefined {
  if (root === '') return path;
  if (path === root) return '';
  return path.startsWith(root + '/') ? path.slice(root.length + 1) : undefined;
}

/** Lower-cased extension without the dot ('IMG_1.HEIC' -> 'heic'), '' when there is none. */
export function extensionOf(path: ConnectorPath): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

function printable(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
