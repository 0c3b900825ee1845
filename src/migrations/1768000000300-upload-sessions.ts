import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 18, item 6: large uploads in flight are recorded (the provider's session, sealed, and the
 * confirmed offset), so a crash mid-file resumes the upload instead of starting at byte 0.
 */
export class UploadSessions1768000000300 implements MigrationInterface {
  name = 'UploadSessions1768000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'upload_sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'task_id', type: 'varchar', length: '36' },
          { name: 'source_path', type: 'text' },
          { name: 'target_account_id', type: 'varchar', length: '36' },
          { name: 'target_path', type: 'text' },
          { name: 'size', type: 'bigint' },
          { name: 'source_modified_at', type: 'bigint', isNullable: true },
          { name: 'sealed_locator', type: 'text' },
          { name: 'confirmed_bytes', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        indices: [
          {
            name: 'IDX_upload_sessions_task_source',
            columnNames: ['task_id', 'source_path'],
            isUnique: true,
          },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('upload_sessions');
  }
}
