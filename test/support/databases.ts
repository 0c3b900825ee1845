import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/app-config.js';
import { dataSourceOptions } from '../../src/persistence/data-source-options.js';

/** PostgreSQL of this machine (trust auth); TEST_POSTGRES_URL overrides. */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  config: DatabaseConfig;
  dispose(): Promise<void>;
}

/** A fresh SQLite file in a temp folder. */
export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'cbe-db-'));
  return {
    name: 'sqlite',
    config: { type: 'sqlite', file: join(dir, 'test.sqlite') },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A fresh schema in the local PostgreSQL, dropped afterwards, so suites never see each other. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const schema = `cbe_test_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return {
    name: 'postgres',
    config: { type: 'postgres', url: TEST_POSTGRES_URL, schema },
    dispose: async () => {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

export const TEST_DATABASES: Array<[string, () => Promise<TestDatabase>]> = [
  ['sqlite', createSqliteDatabase],
  ['postgres', createPostgresDatabase],
];

/** An initialised data source with every migration applied. */
export async function openDataSource(db: TestDatabase): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(db.config));
  await ds.initialize();
  return ds;
}
