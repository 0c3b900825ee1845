import type { Database } from '../persistence/database.js';
import { OwnedEntityRepository } from '../persistence/owned-entity.repository.js';
import { AccountEntity } from './account.entity.js';

export class AccountsRepository extends OwnedEntityRepository<AccountEntity> {
  constructor(db: Database) {
    super(db, AccountEntity);
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
}
