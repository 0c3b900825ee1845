import type { Database } from '../persistence/database.js';
import { TargetFolderEntity } from './entities/target-folder.entity.js';

export interface TargetFolderRecord {
  taskId: string;
  targetAccountId: string;
  path: string;
  folderId: string;
}

/** What the backup executor needs: the id a task's target folder had, and saving a new one. */
export interface TargetFolderIds {
  find(taskId: string): Promise<TargetFolderRecord | undefined>;
  save(rec: TargetFolderRecord, at: Date): Promise<void>;
}

/** The target_folders table: one row per task. */
export class TargetFoldersRepository implements TargetFolderIds {
  constructor(private readonly db: Database) {}

  private get repo() {
    return this.db.dataSource.getRepository(TargetFolderEntity);
  }

  async find(taskId: string): Promise<TargetFolderRecord | undefined> {
    const r = await this.repo.findOneBy({ taskId });
    return r
      ? { taskId, targetAccountId: r.targetAccountId, path: r.path, folderId: r.folderId }
      : undefined;
  }

  async save(rec: TargetFolderRecord, at: Date): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.delete(TargetFolderEntity, { taskId: rec.taskId });
      await em.insert(TargetFolderEntity, { ...rec, seenAt: at });
    });
  }
}
