import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Sign-in: users (scrypt hashes), sessions and API tokens (SHA-256 of the secret only), and the
 * owner of every account and task. Rows from before this migration have no owner; the first
 * admin adopts them when created (`AuthService`), so an upgrade keeps the existing backups.
 */
export class UsersSessionsOwnership1763810000000 implements MigrationInterface {
  name = 'UsersSessionsOwnership1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'username', type: 'varchar', length: '64' },
          { name: 'username_key', type: 'varchar', length: '64' },
          { name: 'password_hash', type: 'varchar', length: '255' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          { name: 'IDX_users_username_key', columnNames: ['username_key'], isUnique: true },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_sessions_user', columnNames: ['user_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          { name: 'IDX_api_tokens_user', columnNames: ['user_id'] },
          { name: 'IDX_api_tokens_hash', columnNames: ['token_hash'], isUnique: true },
        ],
      }),
    );
    for (const table of ['accounts', 'tasks']) {
      await q.addColumn(
        table,
        new TableColumn({ name: 'owner_id', type: 'varchar', length: '36', isNullable: true }),
      );
      await q.createIndex(
        table,
        new TableIndex({ name: `IDX_${table}_owner`, columnNames: ['owner_id'] }),
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['tasks', 'accounts']) {
      await q.dropIndex(table, `IDX_${table}_owner`);
      await q.dropColumn(table, 'owner_id');
    }
    await q.dropTable('api_tokens');
    await q.dropTable('sessions');
    await q.dropTable('users');
  }
}
