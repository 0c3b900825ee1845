import type { Provider } from '@nestjs/common';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { RunsService } from '../runs/runs.service.js';
import { CLOCK, SCHEDULE_TRIGGER } from '../tokens.js';
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
      useFactory: (tasks: TasksRepository, runs: RunsService, clock: Clock, t: ScheduleTrigger) =>
        new SchedulerService(tasks, runs, clock, t),
      inject: [TasksRepository, RunsService, CLOCK, SCHEDULE_TRIGGER],
    },
  ];
}
