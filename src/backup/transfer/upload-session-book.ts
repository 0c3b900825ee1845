import type { Clock } from '../../common/clock.js';
import { hasUploadSessionDiscarder } from '../../connectors/capabilities.js';
import type { Connector, Entry, UploadSessionHooks } from '../../connectors/connector.js';
import type {
  UploadSessionRecord,
  UploadSessionStore,
} from '../../tasks/upload-sessions.repository.js';

/** How often, at most, the confirmed offset of an upload in flight is written down. */
const SESSION_CONFIRM_MS = 1000;

/** One file's upload as the book hands it to the transfer. */
export interface FileUpload {
  /** Where the file goes: the storage path, or the path an earlier attempt's session was opened for. */
  targetPath: string;
  /** Hooks for one attempt (undefined: the file goes up in one request, nothing to record). */
  hooks?: () => UploadSessionHooks;
  /** Waits for the session writes of the attempts so far. */
  settled(): Promise<void>;
  /** The file is stored: its session row goes. */
  stored(): Promise<void>;
}

/**
 * Keeps the upload_sessions rows of one backup run (issue 18, item 6). A file larger than one
 * upload request goes up through a session the target reports; the session (sealed by the store)
 * and its confirmed offset are written down, so a run resumed after a crash continues it. An
 * earlier attempt's session of the same file (same size and modification time, same target
 * account) is handed to the target to continue, at the path it was opened for. The source is
 * read from byte 0 again either way: the prefix the target holds is hashed, not sent (see
 * docs/architecture.md).
 */
export class UploadSessionBook {
  /** Sessions earlier attempts left, by the file's path in the task's source folder. */
  private readonly earlier = new Map<string, UploadSessionRecord>();

  constructor(
    private readonly store: UploadSessionStore | undefined,
    private readonly task: { id: string; targetAccountId: string },
    private readonly clock: Clock,
    private readonly log: { info(message: string, path?: string | null): void },
  ) {}

  /** Reads the task's sessions once, at the start of the run (few rows). */
  async load(): Promise<void> {
    for (const u of (await this.store?.listForTask(this.task.id)) ?? [])
      this.earlier.set(u.sourcePath, u);
  }

  forFile(target: Connector, item: { rel: string; entry: Entry }, storedPath: string): FileUpload {
    const { store, task, log } = this;
    const size = item.entry.size;
    const chunk = target.capabilities.uploadChunkSize;
    const none = { targetPath: storedPath, settled: async () => {}, stored: async () => {} };
    if (!store || size === undefined || chunk === undefined || size <= chunk) return none;
    const earlier = this.earlier.get(item.rel);
    this.earlier.delete(item.rel); // this file's own attempts keep or replace it now
    const same =
      earlier !== undefined &&
      earlier.targetAccountId === task.targetAccountId &&
      earlier.size === size &&
      (earlier.sourceModifiedAt?.getTime() ?? null) === (item.entry.modifiedAt?.getTime() ?? null);
    // A session of the file as it was (changed since) will never be continued: the providers
    // that keep such sessions for ever (S3 multipart) drop it.
    if (earlier !== undefined && !same) void this.discard(target, earlier);
    const targetPath = same ? earlier.targetPath : storedPath;
    let locator = same ? earlier.locator : undefined;
    let written = same ? earlier.locator : undefined;
    let lastConfirm = 0;
    // Writes of one file run one after the other; a failed write only costs the resumption.
    let writes = Promise.resolve();
    const enqueue = (fn: () => Promise<void>) => (writes = writes.then(fn).catch(() => undefined));
    const hooks = (): UploadSessionHooks => {
      const resume = locator;
      return {
        resume,
        onConfirmed: (loc, confirmed) => {
          const now = this.clock.now();
          if (loc === resume && loc === locator && confirmed > 0 && lastConfirm === 0) {
            log.info(
              `${item.entry.path}: continuing the upload an interrupted attempt left, at byte ${confirmed} of ${size}`,
              item.entry.path,
            );
          }
          locator = loc;
          if (loc !== written) {
            written = loc;
            lastConfirm = now.getTime();
            const record: UploadSessionRecord = {
              taskId: task.id,
              sourcePath: item.rel,
              targetAccountId: task.targetAccountId,
              targetPath,
              size,
              sourceModifiedAt: item.entry.modifiedAt ?? null,
              locator: loc,
              confirmedBytes: confirmed,
            };
            void enqueue(() => store.open(record, now));
          } else if (now.getTime() - lastConfirm >= SESSION_CONFIRM_MS || lastConfirm === 0) {
            lastConfirm = now.getTime();
            void enqueue(() => store.confirm(task.id, item.rel, confirmed, now));
          }
        },
      };
    };
    return {
      targetPath,
      hooks,
      settled: () => writes,
      stored: async () => {
        if (written !== undefined || earlier !== undefined)
          await store.remove(task.id, item.rel).catch(() => undefined);
      },
    };
  }

  /**
   * After a commit: sessions of earlier attempts that no file of this run continued (the file
   * was stored meanwhile, changed, or deleted) will never be continued; their rows go, and
   * given the target, the sessions it keeps (see discard).
   */
  async forgetStale(target?: Connector): Promise<void> {
    for (const stale of this.earlier.values()) {
      if (target) await this.discard(target, stale);
      await this.store?.remove(this.task.id, stale.sourcePath).catch(() => undefined);
    }
    this.earlier.clear();
  }

  /** Drops a session nothing will continue, where the provider keeps it (best effort). */
  private async discard(target: Connector, s: UploadSessionRecord): Promise<void> {
    if (s.targetAccountId !== this.task.targetAccountId || !hasUploadSessionDiscarder(target))
      return;
    await target.discardUploadSession(s.locator).catch(() => undefined);
  }
}
