import { randomBytes } from 'node:crypto';
import { baseName, joinPath, parentPath } from './path.js';

/**
 * Connectors that cannot write atomically (a folder, WebDAV, SFTP) write to a hidden temporary
 * name in the same folder and rename it into place; listings hide these names.
 */
const PARTIAL_MARKER = '.cbe-partial-';

/** 'a/IMG_1.jpg' -> 'a/.IMG_1.jpg.cbe-partial-3f9c1a2b7d04' (the stem cut so the name stays < 255 bytes). */
export function partialPathFor(rel: string): string {
  return joinPath(
    parentPath(rel),
    `.${baseName(rel).slice(0, 180)}${PARTIAL_MARKER}${randomBytes(6).toString('hex')}`,
  );
}

export function isPartialName(name: string): boolean {
  return name.includes(PARTIAL_MARKER);
}
