import type { Clock } from '../../common/clock.js';
import type { Connector } from '../../connectors/connector.js';
import { TargetOfflineError } from '../../connectors/connector.errors.js';
import { TargetFolderWatch } from '../../backup/plan/target-folder-watch.js';
import type { TargetFolderIds } from '../../tasks/target-folders.repository.js';
import type { TaskEntity } from '../../tasks/entities/task.entity.js';

/** How often, at most, the target folders are checked while files are copied (and always before a commit). */
const FOLDER_CHECK_MS = 30_000;

/**
 * The target folders of one backup run: the task's folder must be the one its last completed
 * run wrote into, and it and the version's storage folder must stay there while the run writes
 * (see TargetFolderWatch), checked every FOLDER_CHECK_MS and before the commit.
 */
export class BackupTargetFolders {
  /** The id the task's target folder had at the last completed run, when it still applies. */
  private knownFolderId: string | undefined;
  private lastCheck = 0;

  private constructor(
    private readonly folders: TargetFolderWatch,
    private readonly task: TaskEntity,
    private readonly folderIds: TargetFolderIds | undefined,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
  ) {}

  /** Watches the task's folder; throws TargetOfflineError when it is not the one of the earlier versions. */
  static async open(
    target: Connector,
    task: TaskEntity,
    folderIds: TargetFolderIds | undefined,
    clock: Clock,
    signal: AbortSignal,
  ): Promise<BackupTargetFolders> {
    const sut = new BackupTargetFolders(
      new TargetFolderWatch(target),
      task,
      folderIds,
      clock,
      signal,
    );
    await sut.folders.watch(task.targetPath, { signal });
    await sut.assertSameTargetFolder();
    sut.lastCheck = clock.now().getTime();
    return sut;
  }

  /** Watches one more folder (the version's storage folder, once it exists); best effort. */
  watch(folder: string): Promise<void> {
    return this.folders.watch(folder, { signal: this.signal }).catch(() => undefined);
  }

  /** Whether the watched folders are due for a check (every FOLDER_CHECK_MS). */
  checkDue(): boolean {
    return this.clock.now().getTime() - this.lastCheck >= FOLDER_CHECK_MS;
  }

  /**
   * Checks the watched folders (at most every FOLDER_CHECK_MS unless `now`): the
   * TargetOfflineError of one that vanished, else undefined (a flaky stat is not a verdict).
   */
  async vanished(now: boolean): Promise<TargetOfflineError | undefined> {
    if (!now && !this.checkDue()) return undefined;
    this.lastCheck = this.clock.now().getTime();
    try {
      await this.folders.check({ signal: this.signal });
      return undefined;
    } catch (e) {
      return e instanceof TargetOfflineError ? e : undefined;
    }
  }

  /** Before a commit: throws TargetOfflineError when a watched folder is gone or was replaced. */
  check(): Promise<void> {
    return this.folders.check({ signal: this.signal });
  }

  /**
   * The task's target folder must be the one its last completed run wrote into: at the same
   * path with another id, it was deleted and made again, and the earlier versions' files are
   * not in it. Ends the run offline, as a missing folder does.
   */
  private async assertSameTargetFolder(): Promise<void> {
    const { task } = this;
    const known = await this.folderIds?.find(task.id);
    if (!known || known.targetAccountId !== task.targetAccountId) return;
    if (known.path !== task.targetPath) return;
    this.knownFolderId = known.folderId;
    const now = this.folders.idOf(task.targetPath);
    if (now === undefined || now === known.folderId) return;
    throw new TargetOfflineError(
      `the target is offline: the folder '${task.targetPath}' is not the one that holds the earlier versions ` +
        '(it was deleted and made again, so their files may be gone); nothing is written until that folder is back',
    );
  }

  /** After a commit: the id of the folder the run wrote into, for the next run's check. */
  async remember(target: Connector): Promise<void> {
    const { task } = this;
    if (!this.folderIds || task.targetPath === '') return;
    try {
      const id = (await target.stat(task.targetPath, { signal: this.signal })).id;
      if (id === undefined || id === this.knownFolderId) return;
      await this.folderIds.save(
        {
          taskId: task.id,
          targetAccountId: task.targetAccountId,
          path: task.targetPath,
          folderId: id,
        },
        this.clock.now(),
      );
    } catch {
      // The version is committed; without a remembered id the next run checks presence only.
    }
  }
}
