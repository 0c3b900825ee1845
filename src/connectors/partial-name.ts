import { randomBytes } from 'node:crypto';
import { baseName, joinPath, parentPath } from './path.js';

/**
 * Connectors that cannot write atomically (a folder, WebDAV, SFTP) write to a hidden temporary
 * name in the same folder and rename it into place; listings hide these names.
 */
const PARTIAL_MARKER = '.cbe-partial-';

/**
 * Unique per process: a random tag drawn once, then a counter (randomBytes per file cost a
 * getpid and an RNG call for every small file; the names only need to differ from each other and
 * from other processes' writing to the same folder).
 */
const PROCESS_TAG = randomBytes(4).toString('hex');
let partialCounter = 0;

/** 'a/IMG_1.jpg' -> 'a/.IMG_1.jpg.cbe-partial-3f9c1a2b0007' (the stem cut so the name stays < 255 bytes). */
export function partialPathFor(rel: string): string {
  partialCounter = (partialCounter + 1) % 0x1_0000_0000;
  return joinPath(
    parentPath(rel),
    `.${baseName(rel).slice(0, 180)}${PARTIAL_MARKER}${PROCESS_TAG}${partialCounter.toString(16).padStart(4, '0')}`,
  );
}

export function isPartialName(name: string): boolean {
  return name.includes(PARTIAL_MARKER);
}
