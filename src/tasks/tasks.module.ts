import { Module } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountsService } from '../accounts/accounts.service.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Database } from '../persistence/database.js';
import { APP_CONFIG, CLOCK } from '../tokens.js';
import { RunsRepository } from './runs.repository.js';
import { TasksRepository } from './tasks.repository.js';
import { TasksService } from './tasks.service.js';
import { UploadSessionsRepository } from './upload-sessions.repository.js';
import { TargetFoldersRepository } from './target-folders.repository.js';
import { SecretVault } from '../accounts/secret-vault.js';

/**
 * Backup tasks and the tables of their runs. The runs repository lives here, not in the runs
 * module, because deleting a task deletes its runs in one transaction, and the runs module
 * (which starts and executes runs) sits above tasks.
 */
@Module({
  imports: [AccountsModule],
  providers: [
    {
      provide: TasksRepository,
      useFactory: (db: Database) => new TasksRepository(db),
      inject: [Database],
    },
    {
      provide: RunsRepository,
      useFactory: (db: Database) => new RunsRepository(db),
      inject: [Database],
    },
    {
      provide: UploadSessionsRepository,
      useFactory: (db: Database, vault: SecretVault) => new UploadSessionsRepository(db, vault),
      inject: [Database, SecretVault],
    },
    {
      provide: TargetFoldersRepository,
      useFactory: (db: Database) => new TargetFoldersRepository(db),
      inject: [Database],
    },
    {
      provide: TasksService,
      useFactory: (
        tasks: TasksRepository,
        runs: RunsRepository,
        accounts: AccountsService,
        clock: Clock,
        config: AppConfig,
        bus: EventEmitter2,
      ) => new TasksService(tasks, runs, accounts, clock, config.backup.defaultConcurrency, bus),
      inject: [TasksRepository, RunsRepository, AccountsService, CLOCK, APP_CONFIG, EventEmitter2],
    },
  ],
  exports: [
    TasksRepository,
    RunsRepository,
    TasksService,
    UploadSessionsRepository,
    TargetFoldersRepository,
  ],
})
export class TasksModule {}
