import type { Provider } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { RunsRepository } from '../tasks/runs.repository.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import { UploadSessionsRepository } from '../tasks/upload-sessions.repository.js';
import { TargetFoldersRepository } from '../tasks/target-folders.repository.js';
import type { Clock } from '../common/clock.js';
import { releaseMemoryAfterRun, runUnderHeapWatch } from '../common/memory.js';
import type { AppConfig } from '../config/app-config.js';
import type { RunQueueFactory } from '../ports/ports.module.js';
import {
  APP_CONFIG,
  CLOCK,
  RUN_CONTROL,
  RUN_EVENTS_SINK,
  RUN_QUEUE,
  RUN_QUEUE_FACTORY,
} from '../tokens.js';
import { VersionsService } from '../versions/versions.service.js';
import { BackupExecutor } from './executors/backup.executor.js';
import { PruneExecutor } from './executors/prune.executor.js';
import { RestoreExecutor } from './executors/restore.executor.js';
import { VerifyExecutor } from './executors/verify.executor.js';
import type { RunControl } from './run-control.js';
import { RunDispatcher } from './run-dispatcher.js';
import type { RunEventsSink } from './run-events.js';
import type { RunExecutor } from './run-executor.js';
import { RunFinishHooks } from './run-finish-hooks.js';
import type { RunQueue } from './run-queue.js';
import { failGivenUpRun, RunsService } from './runs.service.js';

/** One executor per run kind: a new kind is one more line here. */
function executors(
  config: AppConfig,
  tasks: TasksRepository,
  versions: VersionsService,
  accounts: AccountsService,
  clock: Clock,
  targetState: { uploads: UploadSessionsRepository; folderIds: TargetFoldersRepository },
): RunExecutor[] {
  return [
    new BackupExecutor(tasks, versions, accounts, clock, config.backup, targetState),
    new RestoreExecutor(tasks, versions, accounts, clock, config.backup),
    new PruneExecutor(tasks, versions, accounts),
    new VerifyExecutor(tasks, versions, accounts),
  ];
}

/**
 * The runs module's providers: the dispatcher the queue calls, the queue (its adapter chosen by
 * the ports module), and the service that starts, cancels and pauses runs.
 */
export const runsProviders: Provider[] = [
  // One per app (two API nodes in one test process must not share their hooks).
  { provide: RunFinishHooks, useFactory: () => new RunFinishHooks() },
  {
    provide: RunDispatcher,
    useFactory: (
      runs: RunsRepository,
      tasks: TasksRepository,
      versions: VersionsService,
      accounts: AccountsService,
      events: RunEventsSink,
      pauses: RunControl,
      clock: Clock,
      config: AppConfig,
      finishHooks: RunFinishHooks,
      uploads: UploadSessionsRepository,
      folderIds: TargetFoldersRepository,
    ) =>
      new RunDispatcher(
        { runs, versions, events, clock, pauses, finishHooks },
        executors(config, tasks, versions, accounts, clock, { uploads, folderIds }),
      ),
    inject: [
      RunsRepository,
      TasksRepository,
      VersionsService,
      AccountsService,
      RUN_EVENTS_SINK,
      RUN_CONTROL,
      CLOCK,
      APP_CONFIG,
      RunFinishHooks,
      UploadSessionsRepository,
      TargetFoldersRepository,
    ],
  },
  {
    provide: RUN_QUEUE,
    useFactory: (
      makeQueue: RunQueueFactory,
      dispatcher: RunDispatcher,
      runs: RunsRepository,
      versions: VersionsService,
      clock: Clock,
    ): Promise<RunQueue> =>
      makeQueue(
        // The dispatcher passes the run's id with each line it logs (no async context: issue #21).
        // Resident memory watched while it runs (a full GC over the budget's margin: issue #21).
        (id, signal) =>
          runUnderHeapWatch(() => dispatcher.execute(id, signal)).finally(releaseMemoryAfterRun),
        (runId, reason) => failGivenUpRun({ runs, versions, clock }, runId, reason),
      ),
    inject: [RUN_QUEUE_FACTORY, RunDispatcher, RunsRepository, VersionsService, CLOCK],
  },
  {
    provide: RunsService,
    useFactory: (
      runs: RunsRepository,
      tasks: TasksRepository,
      versions: VersionsService,
      queue: RunQueue,
      clock: Clock,
      control: RunControl,
    ) => new RunsService(runs, tasks, versions, queue, clock, control),
    inject: [RunsRepository, TasksRepository, VersionsService, RUN_QUEUE, CLOCK, RUN_CONTROL],
  },
];
