import type { CallOptions, Connector, Entry } from '../../connectors/connector.js';
import { relativeTo } from '../../connectors/path.js';

export interface WalkedFile {
  /** Path relative to the walked root. */
  rel: string;
  entry: Entry;
}

/**
 * Every file under `root`, depth-first, one folder listing at a time: memory holds the folders
 * still to visit, never the whole tree.
 */
export async function* walkFiles(
  source: Connector,
  root: string,
  opts: CallOptions = {},
): AsyncGenerator<WalkedFile> {
  const pending: string[] = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
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
}
