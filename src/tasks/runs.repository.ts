import {
  In,
  type EntityManager,
  type FindOptionsWhere,
  Between,
  LessThan,
  MoreThanOrEqual,
} from 'typeorm';
import type { Database } from '../persistence/database.js';
import { RunEventEntity } from './entities/run-error.entity.js';
import { RunEntity, type RunStatus } from './entities/run.entity.js';

export type RunCounters = Pick<
  RunEntity,
  | 'filesTotal'
  | 'filesCopied'
  | 'filesUnchanged'
  | 'filesFiltered'
  | 'filesFailed'
  | 'bytesTotal'
  | 'bytesCopied'
  | 'bytesUnchanged'
  | 'retries'
>;

export interface RunSearch {
  taskIds: string[];
  kinds?: string[];
  statuses?: string[];
  from?: Date;
  to?: Date;
  limit: number;
}

export class RunsRepository {
  constructor(private readonly db: Database) {}

  private get repo() {
    return this.db.dataSource.getRepository(RunEntity);
  }

  /** With `em`: read inside that transaction (a run started by a finish hook). */
  findById(id: string, em?: EntityManager): Promise<RunEntity | null> {
    return (em ? em.getRepository(RunEntity) : this.repo).findOneBy({ id });
  }

  /** The newest runs, of one task, or of the tasks of one owner (`ownerTaskIds`), or all. */
  list(opts: { taskId?: string; ownerTaskIds?: string[]; limit: number }): Promise<RunEntity[]> {
    if (opts.ownerTaskIds?.length === 0) return Promise.resolve([]);
    return this.repo.find({
      where: opts.taskId
        ? { taskId: opts.taskId }
        : opts.ownerTaskIds
          ? { taskId: In(opts.ownerTaskIds) }
          : {},
      order: { createdAt: 'DESC' },
      take: opts.limit,
    });
  }

  /**
   * Runs of some tasks matching a filter, newest first: the Runs page (by task, kind, status and
   * date) and the dashboard's 30-day strips. `from` is inclusive, `to` exclusive.
   */
  search(filter: RunSearch): Promise<RunEntity[]> {
    if (filter.taskIds.length === 0) return Promise.resolve([]);
    const where: FindOptionsWhere<RunEntity> = { taskId: In(filter.taskIds) };
    if (filter.kinds?.length) where.kind = In(filter.kinds);
    if (filter.statuses?.length) where.status = In(filter.statuses);
    if (filter.from && filter.to)
      where.createdAt = Between(filter.from, new Date(filter.to.getTime() - 1));
    else if (filter.from) where.createdAt = MoreThanOrEqual(filter.from);
    else if (filter.to) where.createdAt = LessThan(filter.to);
    return this.repo.find({ where, order: { createdAt: 'DESC' }, take: filter.limit });
  }

  /** A queued or running run of the task, if any. */
  findActiveForTask(taskId: string, em?: EntityManager): Promise<RunEntity | null> {
    return (em ? em.getRepository(RunEntity) : this.repo).findOneBy({
      taskId,
      status: In(['queued', 'running'] satisfies RunStatus[]),
    });
  }

  listByStatus(statuses: RunStatus[]): Promise<RunEntity[]> {
    return this.repo.find({ where: { status: In(statuses) }, order: { createdAt: 'ASC' } });
  }

  /** Fails a run that is still queued or running (a run the queue gave up on). */
  async failIfActive(id: string, message: string, at: Date): Promise<boolean> {
    const res = await this.db.write((em) =>
      em.update(
        RunEntity,
        { id, status: In(['queued', 'running'] satisfies RunStatus[]) },
        { status: 'failed', phase: 'done', errorMessage: message, finishedAt: at },
      ),
    );
    return (res.affected ?? 0) > 0;
  }

  insert(run: RunEntity, em?: EntityManager): Promise<RunEntity> {
    if (em) return em.save(RunEntity, run);
    return this.db.write((w) => w.save(RunEntity, run));
  }

  async update(id: string, patch: Partial<RunEntity>, em?: EntityManager): Promise<void> {
    if (em) {
      await em.update(RunEntity, { id }, patch);
      return;
    }
    await this.db.write((m) => m.update(RunEntity, { id }, patch));
  }

  async addEvents(events: Array<Omit<RunEventEntity, 'id'>>): Promise<void> {
    if (events.length === 0) return;
    await this.db.write((em) => em.insert(RunEventEntity, events));
  }

  listEvents(
    runId: string,
    opts: { levels?: RunEventEntity['level'][]; limit: number; afterId?: number },
  ): Promise<RunEventEntity[]> {
    const qb = this.db.dataSource
      .getRepository(RunEventEntity)
      .createQueryBuilder('e')
      .where('e.run_id = :runId', { runId })
      .andWhere('e.id > :afterId', { afterId: opts.afterId ?? 0 })
      .orderBy('e.id', 'ASC')
      .take(opts.limit);
    if (opts.levels) qb.andWhere('e.level IN (:...levels)', { levels: opts.levels });
    return qb.getMany();
  }

  async deleteForTask(taskId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const ids = (await em.find(RunEntity, { select: { id: true }, where: { taskId } })).map(
        (r) => r.id,
      );
      for (let i = 0; i < ids.length; i += 500) {
        await em.delete(RunEventEntity, { runId: In(ids.slice(i, i + 500)) });
      }
      await em.delete(RunEntity, { taskId });
    });
  }
}
