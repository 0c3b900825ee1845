import { hasChangeFeed } from '../../connectors/capabilities.js';
import type { ChangeFeed, ChangePage, Connector } from '../../connectors/connector.js';
import { CursorExpiredError } from '../../connectors/connector.errors.js';
import { relativeTo } from '../../connectors/path.js';
import { walkFiles, type WalkedFile } from './walk.js';

export type PlanMode = 'full' | 'changes';

/**
 * Decides what of the source a run looks at. With a change feed and the cursor of the last
 * complete version, only what changed since is read (a daily run over an unchanged library makes
 * a handful of requests); otherwise everything is listed, with a fresh cursor taken first so
 * nothing falls between the listing and the next run.
 */
export class SourcePlanner {
  private planMode: PlanMode = 'full';
  private nextCursor: string | undefined;
  private readonly deleted = new Set<string>();
  private readonly unreadable: Array<{ rel: string; error: unknown }> = [];
  private fellBack = false;

  constructor(
    private readonly source: Connector,
    private readonly root: string,
    private readonly storedCursor: string | null,
    private readonly signal: AbortSignal,
  ) {}

  get mode(): PlanMode {
    return this.planMode;
  }

  /** The cursor to store once the version is complete (undefined: the source has no feed). */
  get cursor(): string | undefined {
    return this.nextCursor;
  }

  /** True when a stored cursor was refused and the run fell back to a full listing. */
  get cursorWasRefused(): boolean {
    return this.fellBack;
  }

  /** Paths (files or folders, relative to the root) the change feed reported deleted. */
  deletedPaths(): string[] {
    return [...this.deleted];
  }

  /** Sub-folders that could not be listed (skipped, reported by the run as skipped). */
  unreadableFolders(): ReadonlyArray<{ rel: string; error: unknown }> {
    return this.unreadable;
  }

  /**
   * Whether `rel` lies in a folder that could not be listed: its records must stay as they are
   * (not seen is not deleted).
   */
  isUnderUnreadable(rel: string): boolean {
    return this.unreadable.some((u) => u.rel === '' || rel.startsWith(`${u.rel}/`));
  }

  /** A file planned but gone when read: deleted for this version. */
  markVanished(rel: string): void {
    if (this.planMode === 'changes') this.deleted.add(rel);
  }

  private readonly noteUnreadable = (dir: string, error: unknown): void => {
    const rel = relativeTo(this.root, dir);
    if (rel !== undefined) this.unreadable.push({ rel, error });
  };

  async *files(): AsyncGenerator<WalkedFile> {
    const feed = hasChangeFeed(this.source) ? this.source : undefined;
    if (feed && this.storedCursor) {
      let first: ChangePage | undefined;
      try {
        first = await feed.changes(this.root, this.storedCursor, { signal: this.signal });
      } catch (e) {
        if (!(e instanceof CursorExpiredError)) throw e;
        this.fellBack = true;
      }
      if (first) {
        this.planMode = 'changes';
        yield* this.fromChanges(feed, first);
        return;
      }
    }
    if (feed) this.nextCursor = await feed.currentCursor(this.root, { signal: this.signal });
    this.planMode = 'full';
    yield* walkFiles(this.source, this.root, { signal: this.signal }, this.noteUnreadable);
  }

  private async *fromChanges(
    feed: Connector & ChangeFeed,
    first: ChangePage,
  ): AsyncGenerator<WalkedFile> {
    let page: ChangePage = first;
    for (;;) {
      // Net effect per path within a page: the last change wins.
      const last = new Map<string, ChangePage['changes'][number]>();
      for (const ch of page.changes) last.set(ch.type === 'delete' ? ch.path : ch.entry.path, ch);
      for (const ch of last.values()) {
        if (ch.type === 'delete') {
          const rel = relativeTo(this.root, ch.path);
          if (rel !== undefined && rel !== '') this.deleted.add(rel);
          continue;
        }
        const rel = relativeTo(this.root, ch.entry.path);
        if (rel === undefined || rel === '') continue;
        this.deleted.delete(rel);
        if (ch.entry.kind === 'folder') {
          // A folder that appeared or moved: its files may not be reported one by one.
          const walk = walkFiles(
            this.source,
            ch.entry.path,
            { signal: this.signal },
            this.noteUnreadable,
          );
          for await (const f of walk) {
            const fileRel = relativeTo(this.root, f.entry.path);
            if (fileRel === undefined) continue;
            this.deleted.delete(fileRel);
            yield { rel: fileRel, entry: f.entry };
          }
          continue;
        }
        yield { rel, entry: ch.entry };
      }
      this.nextCursor = page.cursor;
      if (!page.hasMore) return;
      page = await feed.changes(this.root, page.cursor, { signal: this.signal });
    }
  }
}
