import type { DataSource } from 'typeorm';
import type { AccountEntity } from '../../../src/accounts/account.entity.js';
import { AccountsRepository } from '../../../src/accounts/accounts.repository.js';
import { Database } from '../../../src/persistence/database.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';

function account(id: string, ownerId: string | null, createdAt: number): AccountEntity {
  return {
    id,
    kind: 'local',
    name: id,
    ownerId,
    config: { root: '/tmp' },
    sealedSecrets: null,
    state: 'connected',
    stateMessage: null,
    createdAt: new Date(createdAt),
    updatedAt: new Date(createdAt),
  } as AccountEntity;
}

describe.each(TEST_DATABASES)('OwnedEntityRepository (accounts) on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let sut: AccountsRepository;

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    sut = new AccountsRepository(new Database(ds));
    await sut.save(account('b', null, 2_000));
    await sut.save(account('a', 'alice', 1_000));
    await sut.save(account('c', null, 3_000));
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  it("should give only the unowned rows to the first admin and list an owner's rows oldest first", async () => {
    expect(await sut.adoptUnowned('admin')).toBe(2);
    expect((await sut.listOwned('admin')).map((r) => r.id)).toEqual(['b', 'c']);
    expect(await sut.countOwned('alice')).toBe(1);
    expect((await sut.listAll()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('should find by id and delete', async () => {
    expect((await sut.findById('a'))?.ownerId).toBe('alice');
    await sut.delete('a');
    expect(await sut.findById('a')).toBeNull();
  });
});
