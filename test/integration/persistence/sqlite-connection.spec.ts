import type { DataSource } from 'typeorm';
import { SQLITE_CACHE_SIZE } from '../../../src/persistence/data-source-options.js';
import {
  createSqliteDatabase,
  openDataSource,
  type TestDatabase,
} from '../../support/databases.js';

/**
 * What the engine's SQLite connection is set to. The page cache is part of the engine's memory
 * budget (200 MiB, issue #21): better-sqlite3's build default (16 MB) grew the engine's resident
 * memory with the ledger, run after run, until a fourth run of 10,000 files passed the budget.
 */
describe('the SQLite connection', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createSqliteDatabase();
    ds = await openDataSource(db);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  const pragma = async (name: string): Promise<unknown> => {
    const rows = (await ds.query(`PRAGMA ${name}`)) as Array<Record<string, unknown>>;
    return Object.values(rows[0]!)[0];
  };

  it('keeps a page cache of 2 MB (SQLite’s own default), not better-sqlite3’s 16 MB', async () => {
    expect(SQLITE_CACHE_SIZE).toBe(-2000);
    expect(await pragma('cache_size')).toBe(-2000);
  });

  it('writes ahead (readers go on while a run writes) and syncs at NORMAL', async () => {
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('synchronous')).toBe(1);
  });
});
