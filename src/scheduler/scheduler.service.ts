import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RunEntity, RunTrigger } from '../tasks/entities/run.entity.js';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { RunExistsError, type RunStarter } from '../runs/runs.service.js';
import { latestSlotBetween, nextRuns, type Schedule } from './schedule.js';

/** Where schedules turn into timers: in-process (embedded) or BullMQ job schedulers (cluster). */
export interface ScheduleTrigger {
  /** Arms whatever fires the slots, for every task (at start-up). */
  start(scheduler: SchedulerService): Promise<void>;
  /** A task was created, changed or deleted (then `task` is undefined). */
  taskChanged(taskId: string, task: TaskEntity | undefined): Promise<void>;
  close(): Promise<void>;
}

/**
 * Turns schedule slots into runs. Rules: a slot is claimed once (a conditional update of the
 * task's checkpoint, and a run id derived from task + slot), so two nodes or a repeated timer
 * never make two runs of one slot; a slot whose previous run of the task is still queued or
 * running becomes a 'skipped' run; a paused task (enabled = false) gets no scheduled run; at
 * start-up the latest missed slot runs once when the task has `catchUp`, else it is passed over.
 */
export class SchedulerService {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly tasks: TasksRepository,
    private readonly runs: RunStarter,
    private readonly clock: Clock,
    private readonly trigger?: ScheduleTrigger,
  ) {}

  /** At start-up (after runs left by a dead process are recovered): catch up, then arm the trigger. */
  async start(): Promise<void> {
    await this.catchUp();
    await this.trigger?.start(this);
  }

  async close(): Promise<void> {
    await this.trigger?.close();
  }

  /** The API changed a task: the trigger re-arms (embedded) or upserts its job scheduler (cluster). */
  async taskChanged(taskId: string, task: TaskEntity | undefined): Promise<void> {
    const armed = task && (isSchedulable(task) || isVerifySchedulable(task)) ? task : undefined;
    await this.trigger?.taskChanged(taskId, armed);
  }

  /** The next `count` slots of a task from now; none while it is paused or unscheduled. */
  nextRuns(task: TaskEntity, count = 5): Date[] {
    if (!isSchedulable(task)) return [];
    return nextRuns(task.schedule as Schedule, this.clock.now(), count);
  }

  /** The next `count` verify slots of a task; none while it is paused or has no verify schedule. */
  nextVerifyRuns(task: TaskEntity, count = 5): Date[] {
    if (!isVerifySchedulable(task)) return [];
    return nextRuns(task.verifySchedule as Schedule, this.clock.now(), count);
  }

  preview(schedule: Schedule, count: number): Date[] {
    return nextRuns(schedule, this.clock.now(), count);
  }

  /** At start-up: the latest slot missed while the engine was down, once per task with catch-up. */
  async catchUp(): Promise<RunEntity[]> {
    const now = this.clock.now();
    const out: RunEntity[] = [];
    for (const task of await this.tasks.listAll()) {
      if (!isSchedulable(task)) continue;
      const slot = latestSlotBetween(task.schedule as Schedule, checkpointOf(task), now);
      if (!slot) continue;
      if (task.catchUp) {
        const run = await this.fireSlot(task.id, slot, 'catch-up');
        if (run) out.push(run);
      } else if (await this.tasks.claimScheduleSlot(task.id, slot)) {
        this.logger.log(
          `task '${task.name}': missed the slot of ${slot.toISOString()} while down; catch-up is off`,
        );
      }
    }
    for (const task of await this.tasks.listAll()) {
      if (!isVerifySchedulable(task)) continue;
      const slot = latestSlotBetween(
        task.verifySchedule as Schedule,
        verifyCheckpointOf(task),
        now,
      );
      if (!slot) continue;
      // A missed verify runs once at start-up when the task catches up, as a missed backup does.
      if (task.catchUp) {
        const run = await this.fireVerifySlot(task.id, slot, 'catch-up');
        if (run) out.push(run);
      } else await this.tasks.claimVerifySlot(task.id, slot);
    }
    return out;
  }

  /** Embedded timer tick: every task whose slot has come gets its run (the latest slot only). */
  async tick(): Promise<RunEntity[]> {
    const now = this.clock.now();
    const out: RunEntity[] = [];
    for (const task of await this.tasks.listAll()) {
      if (!isSchedulable(task)) continue;
      const slot = latestSlotBetween(task.schedule as Schedule, checkpointOf(task), now);
      if (!slot) continue;
      const run = await this.fireSlot(task.id, slot, 'schedule');
      if (run) out.push(run);
    }
    for (const task of await this.tasks.listAll()) {
      if (!isVerifySchedulable(task)) continue;
      const slot = latestSlotBetween(
        task.verifySchedule as Schedule,
        verifyCheckpointOf(task),
        now,
      );
      if (!slot) continue;
      const run = await this.fireVerifySlot(task.id, slot, 'schedule');
      if (run) out.push(run);
    }
    return out;
  }

  /** Tasks with a backup schedule, a verify schedule, or both (a BullMQ node arms them). */
  async schedulableTasks(): Promise<TaskEntity[]> {
    return (await this.tasks.listAll()).filter((t) => isSchedulable(t) || isVerifySchedulable(t));
  }

  /** The earliest next slot of any task: when the embedded timer should wake up. */
  async nextWakeUp(): Promise<Date | undefined> {
    let best: Date | undefined;
    const now = this.clock.now();
    for (const task of await this.tasks.listAll()) {
      if (!isSchedulable(task)) continue;
      const from = checkpointOf(task) > now ? checkpointOf(task) : now;
      const [next] = nextRuns(task.schedule as Schedule, from, 1);
      if (next && (!best || next < best)) best = next;
    }
    for (const task of await this.tasks.listAll()) {
      if (!isVerifySchedulable(task)) continue;
      const from = verifyCheckpointOf(task) > now ? verifyCheckpointOf(task) : now;
      const [next] = nextRuns(task.verifySchedule as Schedule, from, 1);
      if (next && (!best || next < best)) best = next;
    }
    return best;
  }

  /**
   * One slot of one task: claims it, then queues a run or records a skipped one. Returns
   * undefined when the slot was already handled (another node, a repeated timer) or the task is
   * paused, unscheduled or gone.
   */
  async fireSlot(taskId: string, slot: Date, trigger: RunTrigger): Promise<RunEntity | undefined> {
    const task = await this.tasks.findById(taskId);
    if (!task || !isSchedulable(task)) return undefined;
    if (!(await this.tasks.claimScheduleSlot(taskId, slot))) return undefined;
    try {
      return await this.runs.start('backup', taskId, {
        id: slotRunId(taskId, slot),
        trigger,
        scheduledFor: slot,
        whenBusy: 'skip',
      });
    } catch (e) {
      if (e instanceof RunExistsError) return undefined;
      throw e;
    }
  }

  /**
   * One verify slot of one task: claimed once (its own checkpoint, a run id of task + slot +
   * 'verify'), then a verify run of every version of the task, reading back the task's percent.
   * A backup still running does not skip it: the verify run waits in the queue behind it.
   */
  async fireVerifySlot(
    taskId: string,
    slot: Date,
    trigger: RunTrigger,
  ): Promise<RunEntity | undefined> {
    const task = await this.tasks.findById(taskId);
    if (!task || !isVerifySchedulable(task)) return undefined;
    if (!(await this.tasks.claimVerifySlot(taskId, slot))) return undefined;
    try {
      return await this.runs.start('verify', taskId, {
        id: slotRunId(`verify:${taskId}`, slot),
        trigger,
        scheduledFor: slot,
        params: { readPercent: task.verifyReadPercent },
        whenBusy: 'queue',
      });
    } catch (e) {
      if (e instanceof RunExistsError) return undefined;
      throw e;
    }
  }
}

export function isSchedulable(task: TaskEntity): boolean {
  return task.enabled && task.schedule.kind !== 'none' && !!task.schedule.timezone;
}

export function isVerifySchedulable(task: TaskEntity): boolean {
  const v = task.verifySchedule;
  return task.enabled && !!v && v.kind !== 'none' && !!v.timezone;
}

function verifyCheckpointOf(task: TaskEntity): Date {
  return task.verifyCheckpoint ?? task.updatedAt;
}

function checkpointOf(task: TaskEntity): Date {
  return task.scheduleCheckpoint ?? task.updatedAt;
}

/** A UUID-shaped id fixed by task + slot: the same slot can never make two runs. */
export function slotRunId(taskId: string, slot: Date): string {
  const h = createHash('sha256').update(`${taskId}@${slot.getTime()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
