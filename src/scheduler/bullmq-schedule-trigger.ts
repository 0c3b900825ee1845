import { Logger } from '@nestjs/common';
import { Queue, Worker, type Job, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import { redisConnection } from '../runs/bullmq-run-queue.js';
import type { ClusterConfig, ProcessRole } from '../config/app-config.js';
import { nextRuns, type Schedule } from './schedule.js';
import {
  isSchedulable,
  isVerifySchedulable,
  type ScheduleTrigger,
  type SchedulerService,
} from './scheduler.service.js';

export const SLOTS_QUEUE = 'schedule-slots';

interface SlotJobData {
  taskId: string;
  /** Absent on jobs of schedulers made before verify schedules: a backup slot. */
  kind?: 'backup' | 'verify';
}

/**
 * BullMQ computes a scheduler's next slot with this instead of its cron parser: the stored
 * "pattern" is the task's schedule as JSON, so the cluster fires exactly the slots the API
 * previews (month ends, DST rules) from one function.
 */
export function scheduleRepeatStrategy(millis: number, opts: RepeatOptions): number | undefined {
  const schedule = JSON.parse(opts.pattern ?? '{"kind":"none"}') as Schedule;
  return nextRuns(schedule, new Date(millis), 1)[0]?.getTime();
}

const schedulerId = (taskId: string) => `task-${taskId}`;
const verifySchedulerId = (taskId: string) => `verify-${taskId}`;

/**
 * Cluster mode: one BullMQ job scheduler per scheduled task. Each slot becomes one job with the
 * id `repeat:task-<task id>:<slot millis>` (task + slot), so it fires once in the cluster however
 * many nodes run; a worker turns it into a run through SchedulerService.fireSlot (which also
 * claims the slot in the database, so a catch-up and a slot job can never both run it).
 */
export class BullMqScheduleTrigger implements ScheduleTrigger {
  private readonly logger = new Logger('ScheduleTrigger');
  private readonly queue: Queue<SlotJobData>;
  private worker: Worker<SlotJobData> | undefined;
  private readonly connections: Redis[] = [];

  constructor(
    private readonly config: ClusterConfig,
    private readonly role: ProcessRole,
  ) {
    this.queue = new Queue<SlotJobData>(SLOTS_QUEUE, {
      connection: this.connect(),
      prefix: config.queuePrefix,
      settings: { repeatStrategy: scheduleRepeatStrategy },
      defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 1000 },
    });
  }

  async start(scheduler: SchedulerService): Promise<void> {
    if (this.role !== 'worker') await this.syncAll(scheduler);
    if (this.role === 'api') return;
    this.worker = new Worker<SlotJobData>(
      SLOTS_QUEUE,
      async (job: Job<SlotJobData>) => {
        const slot = new Date(job.opts.prevMillis ?? job.timestamp);
        if (job.data.kind === 'verify')
          await scheduler.fireVerifySlot(job.data.taskId, slot, 'schedule');
        else await scheduler.fireSlot(job.data.taskId, slot, 'schedule');
      },
      {
        connection: this.connect(),
        prefix: this.config.queuePrefix,
        settings: { repeatStrategy: scheduleRepeatStrategy },
      },
    );
    this.worker.on('error', (e) => this.logger.error(`slot worker: ${e.message}`));
  }

  /** One job scheduler per armed schedule of the task (backup, verify); the others removed. */
  async taskChanged(taskId: string, task: TaskEntity | undefined): Promise<void> {
    if (task && isSchedulable(task)) {
      await this.queue.upsertJobScheduler(
        schedulerId(taskId),
        { pattern: JSON.stringify(task.schedule) },
        { name: 'slot', data: { taskId, kind: 'backup' } },
      );
    } else await this.queue.removeJobScheduler(schedulerId(taskId));
    if (task && isVerifySchedulable(task)) {
      await this.queue.upsertJobScheduler(
        verifySchedulerId(taskId),
        { pattern: JSON.stringify(task.verifySchedule) },
        { name: 'verify-slot', data: { taskId, kind: 'verify' } },
      );
    } else await this.queue.removeJobScheduler(verifySchedulerId(taskId));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }

  /** At an API node's start: one job scheduler per scheduled task, none for the others. */
  private async syncAll(scheduler: SchedulerService): Promise<void> {
    const tasks = await scheduler.schedulableTasks();
    const wanted = new Set([
      ...tasks.filter(isSchedulable).map((t) => schedulerId(t.id)),
      ...tasks.filter(isVerifySchedulable).map((t) => verifySchedulerId(t.id)),
    ]);
    for (const s of await this.queue.getJobSchedulers(0, -1)) {
      if (!wanted.has(s.key)) await this.queue.removeJobScheduler(s.key);
    }
    for (const t of tasks) await this.taskChanged(t.id, t);
  }

  private connect(): Redis {
    const c = redisConnection(this.config.redisUrl);
    this.connections.push(c);
    return c;
  }
}
