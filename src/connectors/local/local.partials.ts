import { opendir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isPartialName } from '../partial-name.js';

/**
 * Removes the hidden '.cbe-partial-*' files under `abs` (recursively) that a run killed mid-write
 * left behind: a killed process never reaches the unlink of its temporary file. A missing folder
 * has none. Returns how many were removed.
 */
export async function removePartialsUnder(abs: string, signal?: AbortSignal): Promise<number> {
  let removed = 0;
  const pending = [abs];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for await (const d of handle) {
      signal?.throwIfAborted();
      if (d.isDirectory()) pending.push(join(dir, d.name));
      else if (isPartialName(d.name)) {
        await unlink(join(dir, d.name)).catch(() => undefined);
        removed++;
      }
    }
  }
  return removed;
}
