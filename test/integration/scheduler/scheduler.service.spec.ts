import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { RunEntity } from '../../../src/tasks/entities/run.entity.js';
import { TaskEntity } from '../../../src/tasks/entities/task.entity.js';
import type { RunQueue } from '../../../src/runs/run-queue.js';
import { RunsRepository } from '../../../src/tasks/runs.repository.js';
import { TasksRepository } from '../../../src/tasks/tasks.repository.js';
import { Database } from '../../../src/persistence/database.js';
import type { Schedule } from '../../../src/scheduler/schedule.js';
import { SchedulerService } from '../../../src/scheduler/scheduler.service.js';
import { RunsService } from '../../../src/runs/runs.service.js';
import type { Clock } from '../../../src/common/clock.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';
import { FakeClock } from '../../support/fake-clock.js';

class RecordingQueue implements RunQueue {
  readonly enqueued: string[] = [];
  enqueue(runId: string): void {
    this.enqueued.push(runId);
  }
  cancel(): boolean {
    return false;
  }
  idle(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The real run starter over the suite's repositories; the queue only records what it got. */
function runStarter(
  repos: { runs: RunsRepository; tasks: TasksRepository },
  queue: RunQueue,
  clock: Clock,
): RunsService {
  const versions = { markInterruptedVersions: () => Promise.resolve(0) };
  return new RunsService(repos.runs, repos.tasks, versions, queue, clock);
}

const BERLIN_0230: Schedule = { kind: 'daily', time: '02:30', timezone: 'Europe/Berlin' };

describe.each(TEST_DATABASES)('SchedulerService on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let tasks: TasksRepository;
  let runs: RunsRepository;

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    const database = new Database(ds);
    tasks = new TasksRepository(database);
    runs = new RunsRepository(database);
  });

  // tick() looks at every task: each test starts from empty tables.
  beforeEach(async () => {
    await ds.getRepository(RunEntity).clear();
    await ds.getRepository(TaskEntity).clear();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  function setup(start: string) {
    const clock = new FakeClock(Date.parse(start));
    const queue = new RecordingQueue();
    const sut = new SchedulerService(tasks, runStarter({ runs, tasks }, queue, clock), clock);
    const advanceTo = (iso: string) => clock.sleep(Date.parse(iso) - clock.now().getTime());
    return { clock, queue, sut, advanceTo };
  }

  async function saveTask(
    clock: FakeClock,
    patch: Partial<TaskEntity> & { schedule: Schedule },
  ): Promise<TaskEntity> {
    const now = clock.now();
    return tasks.save({
      id: randomUUID(),
      name: 'nightly',
      sourceAccountId: randomUUID(),
      sourcePath: '',
      targetAccountId: randomUUID(),
      targetPath: 'b',
      filterMode: 'all',
      filterExtensions: [],
      concurrency: 2,
      enabled: true,
      changeCursor: null,
      retention: null,
      catchUp: false,
      scheduleCheckpoint: now,
      notifyEmails: [],
      notifyOn: 'failure',
      webhookUrl: null,
      createdAt: now,
      updatedAt: now,
      ...patch,
    } as TaskEntity);
  }

  /** Ticks every 15 minutes from now to `until`, as the embedded timer would at worst. */
  async function tickThrough(
    t: ReturnType<typeof setup>,
    until: string,
  ): Promise<Array<{ at: string; slot: string }>> {
    const fired: Array<{ at: string; slot: string }> = [];
    while (t.clock.now().getTime() < Date.parse(until)) {
      await t.clock.sleep(15 * 60_000);
      for (const r of await t.sut.tick())
        fired.push({ at: t.clock.now().toISOString(), slot: r.scheduledFor!.toISOString() });
    }
    return fired;
  }

  it('should queue one run per slot when ticks pass the slot', async () => {
    const t = setup('2026-11-20T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230 });
    expect(await t.sut.tick()).toEqual([]);
    await t.advanceTo('2026-11-21T01:30:00Z');
    const [run, ...more] = await t.sut.tick();
    expect(more).toEqual([]);
    expect(run).toMatchObject({ taskId: task.id, trigger: 'schedule', status: 'queued' });
    expect(run!.scheduledFor!.toISOString()).toBe('2026-11-21T01:30:00.000Z');
    expect(t.queue.enqueued).toEqual([run!.id]);
    expect(await t.sut.tick()).toEqual([]);
  });

  it('should run the 02:30 slot once when Berlin springs forward', async () => {
    const t = setup('2026-03-28T12:00:00Z');
    await saveTask(t.clock, { schedule: BERLIN_0230 });
    const fired = await tickThrough(t, '2026-03-29T23:00:00Z');
    // 02:30 does not exist that night: it runs at 03:30 CEST (01:30Z), once.
    expect(fired).toEqual([{ at: '2026-03-29T01:30:00.000Z', slot: '2026-03-29T01:30:00.000Z' }]);
  });

  it('should run the 02:30 slot once, not twice, when Berlin falls back', async () => {
    const t = setup('2026-10-24T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230 });
    const fired = await tickThrough(t, '2026-10-25T23:00:00Z');
    expect(fired).toEqual([{ at: '2026-10-25T00:30:00.000Z', slot: '2026-10-25T00:30:00.000Z' }]);
    expect((await runs.list({ taskId: task.id, limit: 10 })).length).toBe(1);
  });

  it('should run once at 01:30 EDT when New York falls back', async () => {
    const t = setup('2026-10-31T12:00:00Z');
    await saveTask(t.clock, {
      schedule: { kind: 'daily', time: '01:30', timezone: 'America/New_York' },
    });
    const fired = await tickThrough(t, '2026-11-01T12:00:00Z');
    expect(fired.map((f) => f.slot)).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it('should record a skipped run when the previous run of the task is still queued', async () => {
    const t = setup('2026-11-20T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230 });
    await t.advanceTo('2026-11-21T01:30:00Z');
    const [first] = await t.sut.tick();
    await t.advanceTo('2026-11-22T01:30:00Z');
    const [second] = await t.sut.tick();
    expect(second).toMatchObject({ status: 'skipped', phase: 'done', trigger: 'schedule' });
    expect(second!.errorMessage).toContain(first!.id);
    expect(t.queue.enqueued).toEqual([first!.id]);
    const stored = await runs.list({ taskId: task.id, limit: 10 });
    expect(stored.map((r) => r.status).sort()).toEqual(['queued', 'skipped']);
  });

  it('should start no scheduled run when the task is paused', async () => {
    const t = setup('2026-11-20T12:00:00Z');
    await saveTask(t.clock, { schedule: BERLIN_0230, enabled: false });
    expect(await tickThrough(t, '2026-11-23T12:00:00Z')).toEqual([]);
    expect(t.queue.enqueued).toEqual([]);
  });

  it('should run the latest missed slot once at start-up when catch-up is on', async () => {
    const t = setup('2026-11-10T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230, catchUp: true });
    // Down for three days and a bit: three slots missed, one catch-up run.
    await t.advanceTo('2026-11-13T20:00:00Z');
    const caught = await t.sut.catchUp();
    expect(caught).toHaveLength(1);
    expect(caught[0]).toMatchObject({ taskId: task.id, trigger: 'catch-up', status: 'queued' });
    expect(caught[0]!.scheduledFor!.toISOString()).toBe('2026-11-13T01:30:00.000Z');
    expect(await t.sut.catchUp()).toEqual([]);
    expect(await t.sut.tick()).toEqual([]);
  });

  it('should pass over missed slots at start-up when catch-up is off', async () => {
    const t = setup('2026-11-10T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230, catchUp: false });
    await t.advanceTo('2026-11-13T20:00:00Z');
    expect(await t.sut.catchUp()).toEqual([]);
    expect(await t.sut.tick()).toEqual([]);
    expect(await runs.list({ taskId: task.id, limit: 10 })).toEqual([]);
    // The next slot still fires as usual.
    await t.advanceTo('2026-11-14T01:30:00Z');
    expect(await t.sut.tick()).toHaveLength(1);
  });

  it('should make one run of a slot when two nodes fire it at once', async () => {
    const t = setup('2026-11-20T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230 });
    const other = new SchedulerService(
      tasks,
      runStarter({ runs, tasks }, new RecordingQueue(), t.clock),
      t.clock,
    );
    const slot = new Date('2026-11-21T01:30:00Z');
    await t.advanceTo(slot.toISOString());
    const results = await Promise.all([
      t.sut.fireSlot(task.id, slot, 'schedule'),
      other.fireSlot(task.id, slot, 'schedule'),
      t.sut.tick(),
    ]);
    const made = results.flat().filter((r) => r !== undefined);
    expect(made).toHaveLength(1);
    expect(await runs.list({ taskId: task.id, limit: 10 })).toHaveLength(1);
  });

  it('should report the next five runs with the zone offset when asked', async () => {
    const t = setup('2026-11-20T12:00:00Z');
    const task = await saveTask(t.clock, { schedule: BERLIN_0230 });
    expect(t.sut.nextRuns(task).map((d) => d.toISOString())).toEqual([
      '2026-11-21T01:30:00.000Z',
      '2026-11-22T01:30:00.000Z',
      '2026-11-23T01:30:00.000Z',
      '2026-11-24T01:30:00.000Z',
      '2026-11-25T01:30:00.000Z',
    ]);
    expect(t.sut.nextRuns({ ...task, enabled: false })).toEqual([]);
  });

  describe('verify schedules (issue 18: verify runs are schedulable)', () => {
    const WEEKLY_SUN_0400: Schedule = {
      kind: 'weekly',
      time: '04:00',
      weekdays: ['sun'],
      timezone: 'Europe/Berlin',
    };

    it('should start one verify run per weekly slot with the task read-back percent, beside the backups', async () => {
      // Friday 2026-11-20; the next Sunday 04:00 Berlin is 2026-11-22T03:00Z.
      const t = setup('2026-11-20T12:00:00Z');
      const task = await saveTask(t.clock, {
        schedule: BERLIN_0230,
        verifySchedule: WEEKLY_SUN_0400,
        verifyReadPercent: 10,
        verifyCheckpoint: t.clock.now(),
      });

      const fired = await tickThrough(t, '2026-11-29T12:00:00Z');

      const all = await runs.list({ taskId: task.id, limit: 50 });
      const verifies = all.filter((r) => r.kind === 'verify');
      expect(verifies.map((r) => r.scheduledFor!.toISOString()).sort()).toEqual([
        '2026-11-22T03:00:00.000Z',
        '2026-11-29T03:00:00.000Z',
      ]);
      expect(verifies[0]).toMatchObject({ trigger: 'schedule', params: { readPercent: 10 } });
      expect(all.filter((r) => r.kind === 'backup')).toHaveLength(9);
      expect(fired).toHaveLength(11);
    });

    it('should make one verify run of a slot when two nodes fire it at once', async () => {
      const t = setup('2026-11-20T12:00:00Z');
      const task = await saveTask(t.clock, {
        schedule: { kind: 'none' },
        verifySchedule: WEEKLY_SUN_0400,
        verifyReadPercent: 0,
        verifyCheckpoint: t.clock.now(),
      });
      const other = new SchedulerService(
        tasks,
        runStarter({ runs, tasks }, new RecordingQueue(), t.clock),
        t.clock,
      );
      const slot = new Date('2026-11-22T03:00:00Z');
      await t.advanceTo(slot.toISOString());
      const results = await Promise.all([
        t.sut.fireVerifySlot(task.id, slot, 'schedule'),
        other.fireVerifySlot(task.id, slot, 'schedule'),
        t.sut.tick(),
      ]);
      expect(results.flat().filter((r) => r !== undefined)).toHaveLength(1);
      expect(await runs.list({ taskId: task.id, limit: 10 })).toHaveLength(1);
    });

    it('should start no verify run of a paused task, nor report its slots', async () => {
      const t = setup('2026-11-20T12:00:00Z');
      const task = await saveTask(t.clock, {
        schedule: { kind: 'none' },
        verifySchedule: WEEKLY_SUN_0400,
        verifyCheckpoint: t.clock.now(),
        enabled: false,
      });
      expect(t.sut.nextVerifyRuns(task)).toEqual([]);
      expect(t.sut.nextVerifyRuns({ ...task, enabled: true })[0]!.toISOString()).toBe(
        '2026-11-22T03:00:00.000Z',
      );
      expect(await tickThrough(t, '2026-11-23T00:00:00Z')).toEqual([]);
    });
  });
});
