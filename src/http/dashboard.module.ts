import { Module } from '@nestjs/common';
import { RunsRepository } from '../tasks/runs.repository.js';
import { TaskHealthService } from '../tasks/task-health.service.js';
import { TasksModule } from '../tasks/tasks.module.js';
import type { Clock } from '../common/clock.js';
import { Database } from '../persistence/database.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { CLOCK } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import { VersionsService } from '../versions/versions.service.js';

/**
 * The dashboard's read-only answers (task health, storage per target, the runs filter). It sits
 * beside the HTTP API because it reads across tasks, runs, versions and schedules, which no one
 * feature module below the API sees together.
 */
@Module({
  imports: [TasksModule, VersionsModule, SchedulerModule],
  providers: [
    {
      provide: TaskHealthService,
      useFactory: (
        db: Database,
        runs: RunsRepository,
        versions: VersionsService,
        scheduler: SchedulerService,
        clock: Clock,
      ) => new TaskHealthService(db, runs, versions, (t) => scheduler.nextRuns(t, 1), clock),
      inject: [Database, RunsRepository, VersionsService, SchedulerService, CLOCK],
    },
  ],
  exports: [TaskHealthService],
})
export class DashboardModule {}
