import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountsService } from '../accounts/accounts.service.js';
import type { Clock } from '../common/clock.js';
import { RunsModule } from '../runs/runs.module.js';
import { RunsService } from '../runs/runs.service.js';
import { CLOCK } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import { VersionsService } from '../versions/versions.service.js';
import { LedgerImportService } from './ledger-import.service.js';
import { PruneAfterBackupHook } from './prune-after-backup.hook.js';
import { RestoreService } from './restore.service.js';
import { TasksModule } from './tasks.module.js';
import { TasksRepository } from './tasks.repository.js';
import { TasksService } from './tasks.service.js';

/** Restore and prune requests (queued as runs), retention after each backup, ledger import. */
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
        clock: Clock,
      ) => new RestoreService(tasks, versions, accounts, runs, clock),
      inject: [TasksRepository, VersionsService, AccountsService, RunsService, CLOCK],
    },
    PruneAfterBackupHook,
    {
      provide: LedgerImportService,
      useFactory: (tasks: TasksService, versions: VersionsService, accounts: AccountsService) =>
        new LedgerImportService(tasks, versions, accounts),
      inject: [TasksService, VersionsService, AccountsService],
    },
  ],
  exports: [RestoreService, LedgerImportService],
})
export class RestoreModule {}
