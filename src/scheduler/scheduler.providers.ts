import type { Provider } from '@nestjs/common';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { RunsService } from '../runs/runs.service.js';
import { APP_CONFIG, CLOCK, SCHEDULE_TRIGGER } from '../tokens.js';
import { EmbeddedScheduleTrigger } from './embedded-schedule-trigger.js';
import { SchedulerService, type ScheduleTrigger } from './scheduler.service.js';

/** The scheduler and its trigger: the in-process timer, or BullMQ job schedulers in a cluster. */
export const schedulerProviders: Provider[] = [
  {
    provide: SCHEDULE_TRIGGER,
    // bullmq is imported only in a cluster.
    useFactory: async (config: AppConfig): Promise<ScheduleTrigger> =>
      config.cluster
        ? new (await import('./bullmq-schedule-trigger.js')).BullMqScheduleTrigger(
            config.cluster,
            config.role,
          )
        : new EmbeddedScheduleTrigger(),
    inject: [APP_CONFIG],
  },
  {
    provide: SchedulerService,
    useFactory: (tasks: TasksRepository, runs: RunsService, clock: Clock, t: ScheduleTrigger) =>
      new SchedulerService(tasks, runs, clock, t),
    inject: [TasksRepository, RunsService, CLOCK, SCHEDULE_TRIGGER],
  },
];
