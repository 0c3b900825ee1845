import type { DataSource, EntityManager } from 'typeorm';
import { AccountsRepository } from '../../../src/accounts/accounts.repository.js';
import { AuthService } from '../../../src/auth/auth.service.js';
import { LoginThrottle } from '../../../src/auth/login-throttle.js';
import { UserEntity } from '../../../src/auth/user.entity.js';
import { TasksRepository } from '../../../src/tasks/tasks.repository.js';
import { systemClock } from '../../../src/common/clock.js';
import { ConflictAppError } from '../../../src/common/errors/app-errors.js';
import { Database } from '../../../src/persistence/database.js';
import {
  createPostgresDatabase,
  openDataSource,
  type TestDatabase,
} from '../../support/databases.js';

/**
 * Each node's first-admin transaction waits at the lock until every node has reached it, so the
 * check-then-insert of nodes started together always overlaps (without the lock each counts no
 * user and inserts one).
 */
class TogetherDatabase extends Database {
  constructor(
    ds: DataSource,
    private readonly arrive: () => Promise<void>,
  ) {
    super(ds);
  }

  override async lockForTransaction(em: EntityManager, key: string): Promise<void> {
    await this.arrive();
    await super.lockForTransaction(em, key);
  }
}

/** Resolves for everyone once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return async () => {
    if (++arrived === n) release();
    await all;
  };
}

/** An engine's AuthService on its own connection pool, as each node of a cluster has. */
function authOn(ds: DataSource, arrive: () => Promise<void>): AuthService {
  const db = new TogetherDatabase(ds, arrive);
  return new AuthService(
    db,
    new AccountsRepository(db),
    new TasksRepository(db),
    new LoginThrottle({ maxFailures: 5, lockSeconds: 60, maxFailuresPerAddress: 50 }),
    systemClock,
  );
}

describe('the first admin on a PostgreSQL shared by several engines', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    db = await createPostgresDatabase();
    // One after the other: the first applies the migrations.
    for (let i = 0; i < 3; i++) sources.push(await openDataSource(db));
  }, 60_000);

  afterAll(async () => {
    for (const ds of sources) await ds.destroy();
    await db?.dispose();
  });

  beforeEach(async () => {
    await sources[0]!.getRepository(UserEntity).clear();
  });

  it('engines starting together with ADMIN_USERNAME all start, and one admin exists', async () => {
    // Without the lock each transaction counts no user and inserts: a unique-key error fails all
    // but one start.
    for (let round = 0; round < 2; round++) {
      await sources[0]!.getRepository(UserEntity).clear();
      const arrive = barrier(sources.length);
      const starts = sources.map((ds) =>
        authOn(ds, arrive).ensureAdmin('admin', 'a long enough pw 1'),
      );
      await expect(Promise.all(starts)).resolves.toHaveLength(3);
      expect(await sources[0]!.getRepository(UserEntity).count()).toBe(1);
    }
  });

  it('two first-start forms sent at once with different names make one admin; the other is told', async () => {
    const arrive = barrier(2);
    const results = await Promise.allSettled([
      authOn(sources[0]!, arrive).setup({ username: 'alice', password: 'a long enough pw 1' }),
      authOn(sources[1]!, arrive).setup({ username: 'bob', password: 'a long enough pw 2' }),
    ]);
    const users = await sources[0]!.getRepository(UserEntity).find();
    expect(users).toHaveLength(1);
    expect(users[0]!.role).toBe('admin');
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictAppError);
  });
});
