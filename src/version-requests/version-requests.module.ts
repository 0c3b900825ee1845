import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountsService } from '../accounts/accounts.service.js';
import type { Clock } from '../common/clock.js';
import { RunsModule } from '../runs/runs.module.js';
import { RunsService } from '../runs/runs.service.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import { TasksService } from '../tasks/tasks.service.js';
import { CLOCK } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import { VersionsService } from '../versions/versions.service.js';
import { LedgerImportService } from './ledger-import.service.js';
import { PruneAfterBackupHook } from './prune-after-backup.hook.js';
import { RestoreService } from './restore.service.js';
import { RetentionService } from './retention.service.js';
import { VerifyService } from './verify.service.js';

/**
 * What an owner asks of a task's versions: restore, verify, retention and prune (each checked,
 * then queued as a run), and a ledger import from a target's manifests. Retention after every
 * completed backup is this module's rule, a finish hook registered with the runs module.
 */
@Module({
  imports: [AccountsModule, TasksModule, VersionsModule, RunsModule],
  providers: [
    {
      provide: RestoreService,
      useFactory: (
        tasks: TasksRepository,
        versions: VersionsService,
        accounts: AccountsService,
        runs: RunsService,
      ) => new RestoreService(tasks, versions, accounts, runs),
      inject: [TasksRepository, VersionsService, AccountsService, RunsService],
    },
    {
      provide: RetentionService,
      useFactory: (
        tasks: TasksRepository,
        versions: VersionsService,
        runs: RunsService,
        clock: Clock,
      ) => new RetentionService(tasks, versions, runs, clock),
      inject: [TasksRepository, VersionsService, RunsService, CLOCK],
    },
    {
      provide: VerifyService,
      useFactory: (tasks: TasksRepository, versions: VersionsService, runs: RunsService) =>
        new VerifyService(tasks, versions, runs),
      inject: [TasksRepository, VersionsService, RunsService],
    },
    PruneAfterBackupHook,
    {
      provide: LedgerImportService,
      useFactory: (tasks: TasksService, versions: VersionsService, accounts: AccountsService) =>
        new LedgerImportService(tasks, versions, accounts),
      inject: [TasksService, VersionsService, AccountsService],
    },
  ],
  exports: [RestoreService, RetentionService, VerifyService, LedgerImportService],
})
export class VersionRequestsModule {}
