import type { Provider } from '@nestjs/common';
import type { RunQueue } from '../backup/run-queue.js';
import { RunsRepository } from '../backup/runs.repository.js';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { CLOCK, RUN_QUEUE, SCHEDULE_TRIGGER } from '../tokens.js';
import { EmbeddedScheduleTrigger } from './embedded-schedule-trigger.js';
import { SchedulerService, type ScheduleTrigger } from './scheduler.service.js';

/** The scheduler and its trigger; `trigger` overrides the embedded timer (cluster mode). */
export function schedulerProviders(trigger?: Provider): Provider[] {
  return [
    trigger ?? {
      provide: SCHEDULE_TRIGGER,
      useFactory: () => new EmbeddedScheduleTrigger(),
    },
    {
      provide: SchedulerService,
      useFactory: (
        tasks: TasksRepository,
        runs: RunsRepository,
        queue: RunQueue,
        clock: Clock,
        t: ScheduleTrigger,
      ) => new SchedulerService(tasks, runs, queue, clock, t),
      inject: [TasksRepository, RunsRepository, RUN_QUEUE, CLOCK, SCHEDULE_TRIGGER],
    },
  ];
}
