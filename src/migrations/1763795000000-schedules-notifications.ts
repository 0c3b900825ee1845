import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Schedules (kind, time, zone, catch-up, the last slot handled), per-task notifications
 * (recipients, when, webhook), the slot of a scheduled run, and the settings table (SMTP).
 */
export class SchedulesNotifications1763795000000 implements MigrationInterface {
  name = 'SchedulesNotifications1763795000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('tasks', [
      new TableColumn({ name: 'schedule', type: 'text', default: `'{"kind":"none"}'` }),
      new TableColumn({ name: 'catch_up', type: 'boolean', default: false }),
      new TableColumn({ name: 'schedule_checkpoint', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'notify_emails', type: 'text', default: `'[]'` }),
      new TableColumn({
        name: 'notify_on',
        type: 'varchar',
        length: '16',
        default: `'failure'`,
      }),
      new TableColumn({ name: 'webhook_url', type: 'text', isNullable: true }),
    ]);
    await q.addColumn(
      'runs',
      new TableColumn({ name: 'scheduled_for', type: 'bigint', isNullable: true }),
    );
    await q.createTable(
      new Table({
        name: 'settings',
        columns: [
          { name: 'key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'text' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('settings');
    await q.dropColumn('runs', 'scheduled_for');
    for (const c of [
      'webhook_url',
      'notify_on',
      'notify_emails',
      'schedule_checkpoint',
      'catch_up',
      'schedule',
    ])
      await q.dropColumn('tasks', c);
  }
}
