import type { DataSource, EntityManager } from 'typeorm';
import { Mutex } from '../common/mutex.js';

/**
 * The explicit transaction helper. SQLite (better-sqlite3) has one connection, so two
 * interleaved transactions would nest BEGINs on it: writes that need a transaction are
 * serialised here. PostgreSQL gets real concurrent transactions from its pool.
 */
export class Database {
  private readonly sqliteLock: Mutex | undefined;

  constructor(readonly dataSource: DataSource) {
    this.sqliteLock = dataSource.options.type === 'better-sqlite3' ? new Mutex() : undefined;
  }

  get isPostgres(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const go = () => this.dataSource.transaction(fn);
    return this.sqliteLock ? this.sqliteLock.run(go) : go();
  }

  /**
   * Inside `transaction`: holds a lock named by `key` until the transaction ends, so a
   * check-then-insert runs on one node at a time when several engines share PostgreSQL (READ
   * COMMITTED lets two transactions both see "none yet" and both insert). SQLite needs none: one
   * process, its transactions serialised above.
   */
  async lockForTransaction(em: EntityManager, key: string): Promise<void> {
    if (!this.isPostgres) return;
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
  }

  /** A single write outside a transaction; still queued behind a running SQLite transaction. */
  write<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const go = () => fn(this.dataSource.manager);
    return this.sqliteLock ? this.sqliteLock.run(go) : go();
  }
}
