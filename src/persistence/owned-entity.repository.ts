import type { EntityTarget, FindOptionsOrder, FindOptionsWhere, Repository } from 'typeorm';
import type { Database } from './database.js';

/** A row a user owns (accounts, tasks): `owner_id` null for rows from before sign-in existed. */
export interface OwnedEntity {
  id: string;
  ownerId: string | null;
  createdAt: Date;
}

/**
 * What every repository of an owned aggregate does the same way: find by id, list (all or one
 * owner's, oldest first), count an owner's, hand unowned rows to the first admin, save, delete.
 * Subclasses add the methods named for their own intentions.
 */
export abstract class OwnedEntityRepository<E extends OwnedEntity> {
  protected constructor(
    protected readonly db: Database,
    private readonly entity: EntityTarget<E>,
  ) {}

  protected get repo(): Repository<E> {
    return this.db.dataSource.getRepository(this.entity);
  }

  findById(id: string): Promise<E | null> {
    return this.repo.findOneBy({ id } as FindOptionsWhere<E>);
  }

  listAll(): Promise<E[]> {
    return this.repo.find({ order: OLDEST_FIRST as FindOptionsOrder<E> });
  }

  listOwned(ownerId: string): Promise<E[]> {
    return this.repo.find({
      where: { ownerId } as FindOptionsWhere<E>,
      order: OLDEST_FIRST as FindOptionsOrder<E>,
    });
  }

  countOwned(ownerId: string): Promise<number> {
    return this.repo.countBy({ ownerId } as FindOptionsWhere<E>);
  }

  /** Gives rows from before sign-in (no owner) to the first admin. */
  async adoptUnowned(ownerId: string): Promise<number> {
    const r = await this.db.write((em) =>
      em
        .createQueryBuilder()
        .update(this.entity)
        .set({ ownerId } as never)
        .where('owner_id IS NULL')
        .execute(),
    );
    return r.affected ?? 0;
  }

  save(row: E): Promise<E> {
    return this.db.write((em) => em.save(this.entity, row));
  }

  async delete(id: string): Promise<void> {
    await this.db.write((em) => em.delete(this.entity, { id } as FindOptionsWhere<E>));
  }
}

const OLDEST_FIRST = { createdAt: 'ASC' } as const;
