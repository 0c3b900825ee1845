import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 18: for targets that report no hash of what they stored (a local drive, WebDAV, SFTP), a
 * task may read every file back after writing it and compare its SHA-256. Off by default: it
 * costs a second read of every byte on the target.
 */
export class TaskReadBack1768000000900 implements MigrationInterface {
  name = 'TaskReadBack1768000000900';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'tasks',
      new TableColumn({ name: 'read_back_after_write', type: 'boolean', default: false }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'read_back_after_write');
  }
}
