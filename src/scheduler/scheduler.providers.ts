import type { Provider } from '@nestjs/common';
import { TasksRepository } from '../tasks/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { RunsService } from '../runs/runs.service.js';
import { CLOCK, SCHEDULE_TRIGGER } from '../tokens.js';
import { SchedulerService, type ScheduleTrigger } from './scheduler.service.js';

/** The scheduler over its trigger (the in-process timer, or BullMQ job schedulers: see PortsModule). */
export const schedulerProviders: Provider[] = [
  {
    provide: SchedulerService,
    useFactory: (tasks: TasksRepository, runs: RunsService, clock: Clock, t: ScheduleTrigger) =>
      new SchedulerService(tasks, runs, clock, t),
    inject: [TasksRepository, RunsService, CLOCK, SCHEDULE_TRIGGER],
  },
];
