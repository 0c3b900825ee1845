import { Logger } from '@nestjs/common';
import { schedule, type ScheduledTask } from 'node-cron';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import type { ScheduleTrigger, SchedulerService } from './scheduler.service.js';

/**
 * Embedded mode: node-cron fires a tick at the start of every minute, and the scheduler runs what
 * is due. Which slots are due is computed by the same function as the API's `nextRuns` and the
 * cluster's BullMQ repeat strategy, not by one node-cron job per task: node-cron cannot say "day
 * 31 runs on the last day of a short month", and its DST handling differs from what the preview
 * shows. Schedules are at minute precision, so a minute tick never runs a slot late by more than
 * the tick itself; a task changed through the API is seen at the next tick.
 */
export class EmbeddedScheduleTrigger implements ScheduleTrigger {
  private readonly logger = new Logger('ScheduleTrigger');
  private job: ScheduledTask | undefined;
  private scheduler: SchedulerService | undefined;
  private running: Promise<void> = Promise.resolve();

  async start(scheduler: SchedulerService): Promise<void> {
    this.scheduler = scheduler;
    this.job = schedule('* * * * *', () => this.fire(), {
      name: 'backup-schedules',
      noOverlap: true,
      unref: true,
    });
  }

  async taskChanged(_taskId: string, _task: TaskEntity | undefined): Promise<void> {
    // Nothing to re-arm: the next minute's tick reads the task as it is then.
  }

  async close(): Promise<void> {
    await this.job?.destroy();
    this.job = undefined;
    await this.running;
  }

  private fire(): Promise<void> {
    this.running = (async () => {
      try {
        await this.scheduler?.tick();
      } catch (e) {
        this.logger.error(`schedule tick failed: ${(e as Error).stack ?? String(e)}`);
      }
    })();
    return this.running;
  }
}
