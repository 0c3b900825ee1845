import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Tasks remember the source's change-feed cursor of their last complete version. */
export class TaskChangeCursor1763785000000 implements MigrationInterface {
  name = 'TaskChangeCursor1763785000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'tasks',
      new TableColumn({ name: 'change_cursor', type: 'text', isNullable: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'change_cursor');
  }
}
