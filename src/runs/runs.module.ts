import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG, RUN_QUEUE } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import type { RunQueue } from './run-queue.js';
import { RunFinishHooks } from './run-finish-hooks.js';
import { runsProviders } from './runs.providers.js';
import { RunsService } from './runs.service.js';

/**
 * Embedded mode, once the app is up: runs a dead process left behind are recovered (in a cluster
 * other nodes may be running them, and BullMQ's stalled-job check recovers a dead worker's
 * jobs). On shutdown the queue stops, aborting what this process executes.
 */
@Injectable()
class RunsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(RunsService) private readonly runs: RunsService,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.cluster) await this.runs.recoverAfterRestart();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/** The run lifecycle: start(kind), the queue, one executor per kind, the recorder, run events. */
@Module({
  imports: [AccountsModule, TasksModule, VersionsModule],
  providers: [...runsProviders, RunsLifecycle],
  exports: [RunsService, RunFinishHooks],
})
export class RunsModule {}
