import type { Database } from '../persistence/database.js';
import { AccountEntity } from './account.entity.js';

export class AccountsRepository {
  constructor(private readonly db: Database) {}

  private get repo() {
    return this.db.dataSource.getRepository(AccountEntity);
  }

  findById(id: string): Promise<AccountEntity | null> {
    return this.repo.findOneBy({ id });
  }

  listAll(): Promise<AccountEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  listOwned(ownerId: string): Promise<AccountEntity[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: 'ASC' } });
  }

  /** Gives rows from before sign-in (no owner) to the first admin. */
  async adoptUnowned(ownerId: string): Promise<number> {
    const r = await this.db.write((em) =>
      em
        .createQueryBuilder()
        .update(AccountEntity)
        .set({ ownerId })
        .where('owner_id IS NULL')
        .execute(),
    );
    return r.affected ?? 0;
  }

  countOwned(ownerId: string): Promise<number> {
    return this.repo.countBy({ ownerId });
  }

  save(account: AccountEntity): Promise<AccountEntity> {
    return this.db.write((em) => em.save(AccountEntity, account));
  }

  async updateSecrets(id: string, sealedSecrets: string, updatedAt: Date): Promise<void> {
    await this.db.write((em) => em.update(AccountEntity, { id }, { sealedSecrets, updatedAt }));
  }

  async updateState(
    id: string,
    state: AccountEntity['state'],
    stateMessage: string | null,
    updatedAt: Date,
  ): Promise<void> {
    await this.db.write((em) =>
      em.update(AccountEntity, { id }, { state, stateMessage, updatedAt }),
    );
  }

  async delete(id: string): Promise<void> {
    await this.db.write((em) => em.delete(AccountEntity, { id }));
  }
}
