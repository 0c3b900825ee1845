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

/** Folders whose listing starts before their turn (see walkFiles). */
export const WALK_FOLDERS_AHEAD = 4;
/** Entries a folder listed ahead of its turn keeps before it waits (one local listing page). */
const ENTRIES_AHEAD = 4096;

/**
 * Every file under `root`, depth-first, one folder at a time: memory holds the folders still to
 * visit and what the listings ahead have buffered, never the whole tree. With `onUnreadable`, a
 * sub-folder that fails to list is reported and skipped instead of failing the walk (one bad
 * folder never fails a run); the root itself, and errors that stop a run (credentials, offline),
 * always throw.
 *
 * The next `foldersAhead` folders to visit (the top of the stack) are listed before their turn,
 * up to ENTRIES_AHEAD entries each, so the source has the next listings to work on while the
 * consumer checks the last files against the ledger. One listing at a time, the two took turns:
 * a no-change run of 10,000 local files in 100 folders had its main thread waiting for the file
 * worker's listing ~60 % of the planning time, and the worker idle while the main thread worked
 * (issue #21); a listing asked for only when the last one was used up cannot overlap, because
 * the consumer's ledger checks never yield to the event loop that would ask. The order, the
 * entries and the errors are the same as one listing at a time; a folder's error comes at its
 * turn, after the files listed before it.
 */
export async function* walkFiles(
  source: Connector,
  root: string,
  opts: CallOptions = {},
  onUnreadable?: UnreadableFolderHandler,
  foldersAhead = WALK_FOLDERS_AHEAD,
): AsyncGenerator<WalkedFile> {
  const pending: string[] = [root];
  const ahead = new Map<string, FolderListing>();
  const listAhead = () => {
    for (let i = pending.length - 1; i >= 0 && ahead.size < foldersAhead; i--) {
      const dir = pending[i]!;
      if (!ahead.has(dir)) ahead.set(dir, new FolderListing(source, dir, opts).readAhead());
      if (pending.length - i >= foldersAhead) break;
    }
  };
  try {
    while (pending.length > 0) {
      const dir = pending.pop()!;
      const listing = ahead.get(dir) ?? new FolderListing(source, dir, opts);
      ahead.delete(dir);
      listAhead();
      try {
        for await (const entry of listing.entries()) {
          if (entry.kind === 'folder') {
            pending.push(entry.path);
            continue;
          }
          const rel = relativeTo(root, entry.path);
          if (rel === undefined || rel === '') continue; // a provider answering outside the root
          yield { rel, entry };
        }
      } catch (e) {
        if (!onUnreadable || dir === root || isAbortError(e) || isRunStopping(e)) throw e;
        // Deleted since its parent was listed: simply gone.
        if (!(e instanceof NotFoundError)) onUnreadable(dir, e);
      }
      listAhead();
    }
  } finally {
    // Stopped early (an error, a cancel, a consumer that had enough): listings ahead are closed.
    await Promise.all([...ahead.values()].map((l) => l.close()));
  }
}

/** One folder's listing, read ahead of its turn or not. */
class FolderListing {
  private readonly it: AsyncIterator<Entry>;
  private buffered: Entry[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private filling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    source: Connector,
    dir: string,
    private readonly opts: CallOptions,
  ) {
    this.it = source.list(dir, opts)[Symbol.asyncIterator]();
  }

  /** Starts reading now, up to ENTRIES_AHEAD entries. */
  readAhead(): this {
    this.filling = this.fill();
    return this;
  }

  private async fill(): Promise<void> {
    try {
      while (!this.stopped && this.buffered.length < ENTRIES_AHEAD) {
        const r = await this.it.next();
        if (r.done) {
          this.ended = true;
          return;
        }
        this.buffered.push(r.value);
      }
    } catch (e) {
      this.ended = true;
      this.failure = { error: e };
    }
  }

  /** What was read ahead, then the rest as the source lists it; the listing's error last. */
  async *entries(): AsyncGenerator<Entry> {
    let finished = false;
    try {
      if (this.filling) await this.filling;
      const buffered = this.buffered;
      this.buffered = [];
      for (const e of buffered) {
        // Entries read before a cancel are not handed out after it.
        this.opts.signal?.throwIfAborted();
        yield e;
      }
      if (this.failure) throw this.failure.error;
      if (!this.ended) {
        for (let r = await this.it.next(); !r.done; r = await this.it.next()) yield r.value;
      }
      finished = true;
    } finally {
      if (!finished && !this.failure) await this.it.return?.();
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.filling;
    if (!this.ended) await this.it.return?.();
  }
}
