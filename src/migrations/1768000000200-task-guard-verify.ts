import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Issue 18: the deletion guard's thresholds and verify runs become per-task settings: the guard
 * (JSON, null = the defaults), the read-back percent of verify runs that do not say theirs, and a
 * verify schedule with its own slot checkpoint (claimed once per slot, as backup slots are).
 */
export class TaskGuardVerify1768000000200 implements MigrationInterface {
  name = 'TaskGuardVerify1768000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('tasks', [
      new TableColumn({ name: 'deletion_guard', type: 'text', isNullable: true }),
      new TableColumn({ name: 'verify_read_percent', type: 'integer', default: 0 }),
      new TableColumn({ name: 'verify_schedule', type: 'text', isNullable: true }),
      new TableColumn({ name: 'verify_checkpoint', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'verify_checkpoint');
    await q.dropColumn('tasks', 'verify_schedule');
    await q.dropColumn('tasks', 'verify_read_percent');
    await q.dropColumn('tasks', 'deletion_guard');
  }
}
