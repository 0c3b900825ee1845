import type { EntityManager } from 'typeorm';
import type { Database } from '../persistence/database.js';
import { TaskEntity } from './entities/task.entity.js';

export class TasksRepository {
  constructor(private readonly db: Database) {}

  private get repo() {
    return this.db.dataSource.getRepository(TaskEntity);
  }

  findById(id: string): Promise<TaskEntity | null> {
    return this.repo.findOneBy({ id });
  }

  listAll(): Promise<TaskEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  listOwned(ownerId: string): Promise<TaskEntity[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: 'ASC' } });
  }

  /** Gives rows from before sign-in (no owner) to the first admin. */
  async adoptUnowned(ownerId: string): Promise<number> {
    const r = await this.db.write((em) =>
      em
        .createQueryBuilder()
        .update(TaskEntity)
        .set({ ownerId })
        .where('owner_id IS NULL')
        .execute(),
    );
    return r.affected ?? 0;
  }

  countOwned(ownerId: string): Promise<number> {
    return this.repo.countBy({ ownerId });
  }

  listUsingAccount(accountId: string): Promise<TaskEntity[]> {
    return this.repo.find({
      where: [{ sourceAccountId: accountId }, { targetAccountId: accountId }],
    });
  }

  save(task: TaskEntity): Promise<TaskEntity> {
    return this.db.write((em) => em.save(TaskEntity, task));
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

  async delete(id: string): Promise<void> {
    await this.db.write((em) => em.delete(TaskEntity, { id }));
  }
}
