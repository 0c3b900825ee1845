import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TasksModule } from '../tasks/tasks.module.js';
import { TASK_CHANGED, type TaskChangedEvent } from '../tasks/tasks.service.js';
import { RunsModule } from '../runs/runs.module.js';
import { schedulerProviders } from './scheduler.providers.js';
import { SchedulerService } from './scheduler.service.js';

/**
 * Starts the scheduler once the app is up (catch-up first; the runs module, imported below, has
 * recovered what a dead process left by then) and stops it before anything else shuts down, so
 * no slot fires into a closed queue.
 */
@Injectable()
class SchedulerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(SchedulerService) private readonly scheduler: SchedulerService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.close();
  }

  /** A task was created, changed or deleted: its timer (or job scheduler) follows. */
  @OnEvent(TASK_CHANGED, { suppressErrors: false })
  async onTaskChanged(e: TaskChangedEvent): Promise<void> {
    await this.scheduler.taskChanged(e.taskId, e.task);
  }
}

/** Schedules -> queued runs (through RunsService.start); overlap and catch-up rules. */
@Module({
  imports: [TasksModule, RunsModule],
  providers: [...schedulerProviders, SchedulerLifecycle],
  exports: [SchedulerService],
})
export class SchedulerModule {}
