import type { CallOptions, Connector } from '../../connectors/connector.js';
import { NotFoundError, TargetOfflineError } from '../../connectors/connector.errors.js';

interface Watched {
  path: string;
  /** The provider's id of the folder when first seen; undefined where it reports none. */
  id: string | undefined;
}

/**
 * Watches the target folders a backup run writes into: the task's folder and the version's
 * storage folder. Cloud writes create missing parents, so a folder someone deletes while a run
 * writes into it comes back silently, with only the files written after the deletion: a version
 * committed on top of it would present files that are gone as stored. A folder that is missing
 * now, or carries another id than when first seen (deleted and made again), is the target gone
 * offline (issue 18, item 1). Checked at checkpoints of the run and always before a commit.
 */
export class TargetFolderWatch {
  private readonly watched: Watched[] = [];
  /** Folders already looked at (watched or not): each costs one stat per run at most. */
  private readonly seen = new Set<string>();

  constructor(private readonly target: Connector) {}

  /**
   * Starts watching `folder` if it is there now ('' is the account's root, which connectors
   * guard themselves). A folder that is not (yet) there, or that the provider cannot stat, is
   * not watched: a first run creates its folders with its first file.
   */
  async watch(folder: string, opts: CallOptions = {}): Promise<void> {
    if (folder === '' || this.seen.has(folder)) return;
    this.seen.add(folder);
    try {
      const e = await this.target.stat(folder, opts);
      if (e.kind === 'folder') this.watched.push({ path: folder, id: e.id });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  /** The id `folder` had when first seen, if it is watched and the provider reports ids. */
  idOf(folder: string): string | undefined {
    return this.watched.find((w) => w.path === folder)?.id;
  }

  /** Throws TargetOfflineError when a watched folder is gone or was replaced. */
  async check(opts: CallOptions = {}): Promise<void> {
    for (const w of this.watched) {
      let id: string | undefined;
      try {
        const e = await this.target.stat(w.path, opts);
        if (e.kind !== 'folder') throw this.gone(w, 'a file now stands in its place');
        id = e.id;
      } catch (e) {
        if (e instanceof NotFoundError) throw this.gone(w, 'it was deleted or moved');
        throw e;
      }
      if (w.id !== undefined && id !== undefined && id !== w.id) {
        throw this.gone(w, 'it was deleted and made again (another folder id)');
      }
    }
  }

  private gone(w: Watched, why: string): TargetOfflineError {
    return new TargetOfflineError(
      `the target is offline: the folder '${w.path}' vanished during the run (${why}); ` +
        'files this run stored there may be gone, so this version is not committed',
    );
  }
}
