import type { DataSource, EntityManager } from 'typeorm';
import { Mutex } from '../common/mutex.js';

/**
 * The explicit transaction helper. SQLite (better-sqlite3) has one connection, so two
 * interleaved transactions would nest BEGINs on it: writes that need a transaction are
 * serialised here. PostgreSQL gets real concurrent transactions from its pool.
 */
/** A better-sqlite3 statement in raw mode: rows as arrays of column values. */
interface RawStatement {
  all(...params: unknown[]): unknown[][];
}

/** Statements kept prepared for `rowArrays` (an IN list of each length is one). */
const RAW_STATEMENTS_KEPT = 512;

export class Database {
  private readonly sqliteLock: Mutex | undefined;
  private readonly rawStatements = new Map<string, RawStatement>();

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

  /**
   * Rows as arrays of the values of `columns` (the SELECT list's names, in its order), for reads
   * a run makes of every file (the ledger check, the manifest). On SQLite straight from
   * better-sqlite3 in raw mode: TypeORM's query() and better-sqlite3's row objects cost about as
   * much as SQLite's own work there (the manifest rows of 10,000 files took 23.5 ms as objects and
   * 13 ms as arrays; issue #21). On PostgreSQL through `dataSource.query`, each row's values
   * picked by name. Like `dataSource.query`, a read is not queued behind a transaction.
   */
  async rowArrays(
    sql: string,
    params: readonly unknown[],
    columns: readonly string[],
  ): Promise<unknown[][]> {
    if (!this.sqliteLock) {
      const rows = (await this.dataSource.query(sql, [...params])) as Array<
        Record<string, unknown>
      >;
      return rows.map((r) => columns.map((c) => r[c]));
    }
    let statement = this.rawStatements.get(sql);
    if (!statement) {
      if (this.rawStatements.size >= RAW_STATEMENTS_KEPT) this.rawStatements.clear();
      const connection = (
        this.dataSource.driver as unknown as {
          databaseConnection: { prepare(sql: string): { raw(on: boolean): RawStatement } };
        }
      ).databaseConnection;
      statement = connection.prepare(sql).raw(true);
      this.rawStatements.set(sql, statement);
    }
    return statement.all(...params);
  }
}
