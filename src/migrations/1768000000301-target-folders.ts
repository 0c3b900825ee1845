import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 18, item 1: the id of each task's cloud target folder, so a folder deleted and made again
 * at the same path (whose earlier versions' files are gone) is told apart from the one that
 * holds them.
 */
export class TargetFolders1768000000301 implements MigrationInterface {
  name = 'TargetFolders1768000000301';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'target_folders',
        columns: [
          { name: 'task_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'target_account_id', type: 'varchar', length: '36' },
          { name: 'path', type: 'text' },
          { name: 'folder_id', type: 'text' },
          { name: 'seen_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('target_folders');
  }
}
