import { Logger } from '@nestjs/common';
import type { TaskEntity } from '../backup/entities/task.entity.js';
import type { Clock } from '../common/clock.js';
import type { ScheduleTrigger, SchedulerService } from './scheduler.service.js';

/**
 * Longest sleep between ticks: a wall-clock jump (suspend, NTP) or a task changed elsewhere is
 * noticed within a minute.
 */
const MAX_SLEEP_MS = 60_000;

/**
 * Embedded mode: one timer armed for the earliest next slot of any task, computed by the same
 * function as the API's `nextRuns` and the cluster's BullMQ repeat strategy. (node-cron was
 * considered and not used: it cannot say "day 31 runs on the last day of a short month", and its
 * DST handling differs from what the preview shows.)
 */
export class EmbeddedScheduleTrigger implements ScheduleTrigger {
  private readonly logger = new Logger('ScheduleTrigger');
  private timer: NodeJS.Timeout | undefined;
  private scheduler: SchedulerService | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  async start(scheduler: SchedulerService): Promise<void> {
    this.scheduler = scheduler;
    await this.arm();
  }

  async taskChanged(_taskId: string, _task: TaskEntity | undefined): Promise<void> {
    if (this.scheduler) await this.arm();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async arm(): Promise<void> {
    if (this.closed || !this.scheduler) return;
    if (this.timer) clearTimeout(this.timer);
    const next = await this.scheduler.nextWakeUp();
    const wait = next ? next.getTime() - this.clock.now().getTime() : MAX_SLEEP_MS;
    this.timer = setTimeout(
      () => {
        this.running = this.fire();
      },
      Math.max(0, Math.min(wait, MAX_SLEEP_MS)),
    );
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    try {
      await this.scheduler?.tick();
    } catch (e) {
      this.logger.error(`schedule tick failed: ${(e as Error).stack ?? String(e)}`);
    }
    await this.arm().catch(() => undefined);
  }
}
