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
