import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Restore and prune runs carry their parameters; tasks carry a retention policy. */
export class RestoreAndRetention1763790000000 implements MigrationInterface {
  name = 'RestoreAndRetention1763790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('runs', new TableColumn({ name: 'params', type: 'text', isNullable: true }));
    await q.addColumn(
      'tasks',
      new TableColumn({ name: 'retention', type: 'text', isNullable: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('tasks', 'retention');
    await q.dropColumn('runs', 'params');
  }
}
