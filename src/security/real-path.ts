import { realpath } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

/**
 * The real path of `abs` with every symbolic link resolved; for a path that does not exist yet,
 * the real path of its nearest existing ancestor joined with the missing rest (a folder a run
 * will create still lands where its existing parent really is).
 */
export async function realPathOf(abs: string): Promise<string> {
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      return join(await realpath(p), ...missing.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw e;
      missing.push(basename(p));
    }
  }
}

/** Whether `inner` is `outer` or lies under it (both absolute, normalised). */
export function isWithin(outer: string, inner: string): boolean {
  if (inner === outer) return true;
  const prefix = outer.endsWith(sep) ? outer : outer + sep;
  return inner.startsWith(prefix);
}
