import {
  Table,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

const id = (name = 'id'): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  isPrimary: true,
});
const serial = (): TableColumnOptions => ({
  name: 'id',
  type: 'integer',
  isPrimary: true,
  isGenerated: true,
  generationStrategy: 'increment',
});
const ref = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  isNullable: nullable,
});
const text = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'text',
  isNullable: nullable,
});
const str = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const int = (
  name: string,
  opts: { nullable?: boolean; default?: number } = {},
): TableColumnOptions => ({
  name,
  type: 'integer',
  isNullable: opts.nullable ?? false,
  default: opts.default,
});
const big = (
  name: string,
  opts: { nullable?: boolean; default?: number } = {},
): TableColumnOptions => ({
  name,
  type: 'bigint',
  isNullable: opts.nullable ?? false,
  default: opts.default,
});

/** The first schema: accounts, tasks, runs and their events, versions and version files. */
export class InitialSchema1763778000000 implements MigrationInterface {
  name = 'InitialSchema1763778000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'accounts',
        columns: [
          id(),
          str('kind', 64),
          str('name', 200),
          text('config'),
          text('sealed_secrets', true),
          str('state', 32),
          text('state_message', true),
          big('created_at'),
          big('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'tasks',
        columns: [
          id(),
          str('name', 200),
          ref('source_account_id'),
          text('source_path'),
          ref('target_account_id'),
          text('target_path'),
          str('filter_mode', 16),
          text('filter_extensions'),
          int('concurrency'),
          { name: 'enabled', type: 'boolean' },
          big('created_at'),
          big('updated_at'),
        ],
        indices: [
          new TableIndex({ columnNames: ['source_account_id'] }),
          new TableIndex({ columnNames: ['target_account_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'runs',
        columns: [
          id(),
          ref('task_id'),
          str('kind', 16),
          str('trigger', 16),
          str('status', 16),
          str('phase', 16),
          int('files_total', { default: 0 }),
          int('files_copied', { default: 0 }),
          int('files_unchanged', { default: 0 }),
          int('files_filtered', { default: 0 }),
          int('files_failed', { default: 0 }),
          big('bytes_total', { default: 0 }),
          big('bytes_copied', { default: 0 }),
          int('retries', { default: 0 }),
          ref('version_id', true),
          text('error_message', true),
          big('created_at'),
          big('started_at', { nullable: true }),
          big('finished_at', { nullable: true }),
        ],
        indices: [
          new TableIndex({ columnNames: ['task_id', 'created_at'] }),
          new TableIndex({ columnNames: ['status'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'run_events',
        columns: [
          serial(),
          ref('run_id'),
          str('level', 16),
          text('path', true),
          str('code', 32, true),
          text('message'),
          big('at'),
        ],
        indices: [new TableIndex({ columnNames: ['run_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'versions',
        columns: [
          id(),
          ref('task_id'),
          ref('run_id'),
          int('seq'),
          str('status', 16),
          text('storage_folder'),
          text('manifest_path', true),
          int('file_count', { default: 0 }),
          big('total_bytes', { default: 0 }),
          big('created_at'),
          big('completed_at', { nullable: true }),
        ],
        indices: [new TableIndex({ columnNames: ['task_id', 'seq'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'version_files',
        columns: [
          serial(),
          ref('task_id'),
          text('path'),
          big('size'),
          str('sha256', 64),
          text('source_hashes'),
          text('source_id', true),
          big('modified_at', { nullable: true }),
          text('stored_path'),
          int('first_seq'),
          int('last_seq', { nullable: true }),
        ],
        indices: [
          new TableIndex({ columnNames: ['task_id', 'path'] }),
          new TableIndex({ columnNames: ['task_id', 'last_seq'] }),
          new TableIndex({ columnNames: ['task_id', 'first_seq'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['version_files', 'versions', 'run_events', 'runs', 'tasks', 'accounts'])
      await q.dropTable(t);
  }
}
