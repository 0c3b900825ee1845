import type { CallOptions, Connector, Entry } from '../../connectors/connector.js';
import { isAbortError, NotFoundError } from '../../connectors/connector.errors.js';
import { relativeTo } from '../../connectors/path.js';
import { isRunStopping } from '../transfer/error-policy.js';

export interface WalkedFile {
  /** Path relative to the walked root. */
  rel: string;
  entry: Entry;
}

/**
 * Told about a folder below the root that could not be listed (a name the source's own API
 * refuses, no permission, a listing that kept failing): its files are not in this walk, and the
 * caller must not take them for deleted.
 */
export type UnreadableFolderHandler = (dir: string, error: unknown) => void;

/**
 * Every file under `root`, depth-first, one folder listing at a time: memory holds the folders
 * still to visit, never the whole tree. With `onUnreadable`, a sub-folder that fails to list is
 * reported and skipped instead of failing the walk (one bad folder never fails a run); the root
 * itself, and errors that stop a run (credentials, offline), always throw.
 */
export async function* walkFiles(
  source: Connector,
  root: string,
  opts: CallOptions = {},
  onUnreadable?: UnreadableFolderHandler,
): AsyncGenerator<WalkedFile> {
  const pending: string[] = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    try {
      yield* listFolder(source, root, dir, pending, opts);
    } catch (e) {
      if (!onUnreadable || dir === root || isAbortError(e) || isRunStopping(e)) throw e;
      // Deleted since its parent was listed: simply gone.
      if (!(e instanceof NotFoundError)) onUnreadable(dir, e);
    }
  }
}

async function* listFolder(
  source: Connector,
  root: string,
  dir: string,
  pending: string[],
  opts: CallOptions,
): AsyncGenerator<WalkedFile> {
  for await (const entry of source.list(dir, opts)) {
    if (entry.kind === 'folder') {
      pending.push(entry.path);
      continue;
    }
    const rel = relativeTo(root, entry.path);
    if (rel === undefined || rel === '') continue; // a provider answering outside the root
    yield { rel, entry };
  }
}
