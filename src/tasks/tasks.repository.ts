import type { EntityManager } from 'typeorm';
import type { Database } from '../persistence/database.js';
import { OwnedEntityRepository } from '../persistence/owned-entity.repository.js';
import { TargetFolderEntity } from './entities/target-folder.entity.js';
import { TaskEntity } from './entities/task.entity.js';
import { UploadSessionEntity } from './entities/upload-session.entity.js';

export class TasksRepository extends OwnedEntityRepository<TaskEntity> {
  constructor(db: Database) {
    super(db, TaskEntity);
  }

  /** The task and what is kept about its target: upload sessions (sealed URLs) and folder id. */
  override async delete(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.delete(UploadSessionEntity, { taskId: id });
      await em.delete(TargetFolderEntity, { taskId: id });
      await em.delete(TaskEntity, { id });
    });
  }

  listUsingAccount(accountId: string): Promise<TaskEntity[]> {
    return this.repo.find({
      where: [{ sourceAccountId: accountId }, { targetAccountId: accountId }],
    });
  }

  async saveChangeCursor(id: string, cursor: string | null, em: EntityManager): Promise<void> {
    await em.update(TaskEntity, { id }, { changeCursor: cursor });
  }

  /**
   * Moves the task's schedule checkpoint to `slot` if it is still before it: true for exactly one
   * caller per slot, however many nodes or timers try.
   */
  async claimScheduleSlot(id: string, slot: Date): Promise<boolean> {
    const res = await this.db.write((em) =>
      em
        .createQueryBuilder()
        .update(TaskEntity)
        .set({ scheduleCheckpoint: slot })
        .where('id = :id', { id })
        .andWhere('(schedule_checkpoint IS NULL OR schedule_checkpoint < :slot)', {
          slot: slot.getTime(),
        })
        .execute(),
    );
    return (res.affected ?? 0) > 0;
  }

  /** As `claimScheduleSlot`, for the task's verify schedule. */
  async claimVerifySlot(id: string, slot: Date): Promise<boolean> {
    const res = await this.db.write((em) =>
      em
        .createQueryBuilder()
        .update(TaskEntity)
        .set({ verifyCheckpoint: slot })
        .where('id = :id', { id })
        .andWhere('(verify_checkpoint IS NULL OR verify_checkpoint < :slot)', {
          slot: slot.getTime(),
        })
        .execute(),
    );
    return (res.affected ?? 0) > 0;
  }
}
