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

  /** A single write outside a transaction; still queued behind a running SQLite transaction. */
  write<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const go = () => fn(this.dataSource.manager);
    return this.sqliteLock ? this.sqliteLock.run(go) : go();
  }
}
