import type { ConnectorPath } from '../connector.js';

/**
 * OneDrive and SharePoint refuse `" * : < > ? \ |` in names, and names that start or end with a
 * space or end with a dot. Like rclone, such characters are stored as look-alike full-width
 * characters and mapped back on the way out; a name that already holds one of the look-alikes
 * gets the quote character U+201B before it, so the mapping stays reversible.
 */
const TO_STORED: Record<string, string> = {
  '"': '\uFF02',
  '*': '\uFF0A',
  ':': '\uFF1A',
  '<': '\uFF1C',
  '>': '\uFF1E',
  '?': '\uFF1F',
  '\\': '\uFF3C',
  '|': '\uFF5C',
};
const SPACE = '\u2420'; // ␠
const DOT = '\uFF0E'; // ．
const QUOTE = '\u201B'; // ‛
const FROM_STORED = new Map<string, string>([
  ...Object.entries(TO_STORED).map(([k, v]) => [v, k] as [string, string]),
  [SPACE, ' '],
  [DOT, '.'],
]);

export function encodeName(name: string): string {
  const chars = [...name];
  return chars
    .map((c, i) => {
      if (c === QUOTE || FROM_STORED.has(c)) return QUOTE + c;
      const mapped = TO_STORED[c];
      if (mapped) return mapped;
      if (c === ' ' && (i === 0 || i === chars.length - 1)) return SPACE;
      if (c === '.' && i === chars.length - 1) return DOT;
      return c;
    })
    .join('');
}

export function decodeName(stored: string): string {
  const chars = [...stored];
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === QUOTE && i + 1 < chars.length) {
      out += chars[++i];
      continue;
    }
    out += FROM_STORED.get(c) ?? c;
  }
  return out;
}

/**
 * One path segment for Graph path addressing (`root:/a/b:`): stored name, percent-encoded. `'`
 * is encoded too (OData treats it as a string delimiter), and so are `!*()` for safety.
 */
export function encodeSegment(name: string): string {
  return encodeURIComponent(encodeName(name)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/me/drive` or `/drives/{id}`. */
export function drivePrefix(driveId: string | undefined): string {
  return driveId === undefined ? '/me/drive' : `/drives/${encodeURIComponent(driveId)}`;
}

/**
 * Graph address of an item by path: `{drive}/root` for the root, else `{drive}/root:/a/b:`.
 * Append `/children`, `/content`... after it.
 */
export function itemPathAddress(driveId: string | undefined, path: ConnectorPath): string {
  const prefix = drivePrefix(driveId);
  if (path === '') return `${prefix}/root`;
  return `${prefix}/root:/${path.split('/').map(encodeSegment).join('/')}:`;
}
