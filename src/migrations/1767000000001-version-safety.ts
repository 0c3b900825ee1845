import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 18: versions say why they are held or damaged, how many source files the run skipped,
 * and when a verify run last checked them. The status column (varchar 16) takes the new values
 * 'held', 'discarded' and 'damaged' as they are.
 */
export class VersionSafety1767000000001 implements MigrationInterface {
  name = 'VersionSafety1767000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('versions', [
      new TableColumn({ name: 'status_reason', type: 'text', isNullable: true }),
      new TableColumn({ name: 'skipped_count', type: 'integer', default: 0 }),
      new TableColumn({ name: 'verified_at', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('versions', 'verified_at');
    await q.dropColumn('versions', 'skipped_count');
    await q.dropColumn('versions', 'status_reason');
  }
}
