import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 23: a run counts the bytes of the files it left unchanged, so an incremental run's
 * progress knows the bytes it has to copy and its log says "Unchanged 12 files, 3.4 MB".
 */
export class RunBytesUnchanged1768000000701 implements MigrationInterface {
  name = 'RunBytesUnchanged1768000000701';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'runs',
      new TableColumn({ name: 'bytes_unchanged', type: 'bigint', default: 0 }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('runs', 'bytes_unchanged');
  }
}
