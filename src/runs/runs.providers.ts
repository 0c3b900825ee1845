import type { Provider } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AccountsService } from '../accounts/accounts.service.js';
import { RunsRepository } from '../backup/runs.repository.js';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import { releaseMemoryAfterRun } from '../common/memory.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG, CLOCK, RUN_QUEUE } from '../tokens.js';
import { VersionsService } from '../versions/versions.service.js';
import { EventEmitterRunEvents } from './event-emitter-run-events.js';
import { BackupExecutor } from './executors/backup.executor.js';
import { PruneExecutor } from './executors/prune.executor.js';
import { RestoreExecutor } from './executors/restore.executor.js';
import { RunDispatcher } from './run-dispatcher.js';
import type { RunEventsSink } from './run-events.js';
import type { RunExecutor } from './run-executor.js';
import { EmbeddedRunQueue, type RunQueue } from './run-queue.js';
import { failGivenUpRun, RunsService } from './runs.service.js';

export const RUN_EVENTS_SINK = Symbol('RUN_EVENTS_SINK');

/**
 * The runs module's providers: one executor per run kind (a new kind is one more entry in
 * `executors`), the dispatcher the queue calls, the queue (in-process, or BullMQ in a cluster),
 * and the service that starts runs.
 */
export const runsProviders: Provider[] = ((): Provider[] => {
  const executors = (
    config: AppConfig,
    tasks: TasksRepository,
    versions: VersionsService,
    accounts: AccountsService,
    clock: Clock,
  ): RunExecutor[] => [
    new BackupExecutor(tasks, versions, accounts, clock, config.backup),
    new RestoreExecutor(tasks, versions, accounts, clock, config.backup),
    new PruneExecutor(tasks, versions, accounts),
  ];
  return [
    {
      provide: RUN_EVENTS_SINK,
      useFactory: (bus: EventEmitter2) => new EventEmitterRunEvents(bus),
      inject: [EventEmitter2],
    },
    {
      provide: RunDispatcher,
      useFactory: (
        runs: RunsRepository,
        tasks: TasksRepository,
        versions: VersionsService,
        accounts: AccountsService,
        events: RunEventsSink,
        clock: Clock,
        config: AppConfig,
      ) =>
        new RunDispatcher(
          { runs, versions, events, clock },
          executors(config, tasks, versions, accounts, clock),
        ),
      inject: [
        RunsRepository,
        TasksRepository,
        VersionsService,
        AccountsService,
        RUN_EVENTS_SINK,
        CLOCK,
        APP_CONFIG,
      ],
    },
    {
      provide: RUN_QUEUE,
      // bullmq and ioredis are imported only in a cluster (~20 MiB a single node never uses).
      useFactory: async (
        dispatcher: RunDispatcher,
        runs: RunsRepository,
        versions: VersionsService,
        clock: Clock,
        config: AppConfig,
      ): Promise<RunQueue> => {
        const execute = (id: string, signal: AbortSignal) =>
          dispatcher.execute(id, signal).finally(releaseMemoryAfterRun);
        return config.cluster
          ? new (await import('./bullmq-run-queue.js')).BullMqRunQueue(
              config.cluster,
              // An API-only node queues runs; workers execute them.
              config.role === 'api' ? undefined : execute,
              config.backup.maxParallelRuns,
              (runId, reason) => failGivenUpRun({ runs, versions, clock }, runId, reason),
            )
          : new EmbeddedRunQueue(execute, config.backup.maxParallelRuns);
      },
      inject: [RunDispatcher, RunsRepository, VersionsService, CLOCK, APP_CONFIG],
    },
    {
      provide: RunsService,
      useFactory: (
        runs: RunsRepository,
        tasks: TasksRepository,
        versions: VersionsService,
        queue: RunQueue,
        clock: Clock,
      ) => new RunsService(runs, tasks, versions, queue, clock),
      inject: [RunsRepository, TasksRepository, VersionsService, RUN_QUEUE, CLOCK],
    },
  ];
})();
