import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccountsRepository } from './accounts/accounts.repository.js';
import { AccountsService } from './accounts/accounts.service.js';
import { ICloudSignInService } from './accounts/icloud-sign-in.service.js';
import { InMemoryOAuthStateStore, OAuthConnectService } from './accounts/oauth-connect.service.js';
import { SecretVault } from './accounts/secret-vault.js';
import { BackupRunner } from './backup/backup-runner.js';
import { EventEmitterRunEvents } from './backup/event-emitter-run-events.js';
import { EmbeddedRunQueue, type RunQueue } from './backup/run-queue.js';
import { RunsRepository } from './backup/runs.repository.js';
import { RunsService } from './backup/runs.service.js';
import { TasksRepository } from './backup/tasks.repository.js';
import { TasksService } from './backup/tasks.service.js';
import { systemClock, type Clock } from './common/clock.js';
import type { AppConfig } from './config/app-config.js';
import { ConnectorRegistry } from './connectors/connector.registry.js';
import { ICloudAuthService } from './connectors/icloud-photos/index.js';
import { Database } from './persistence/database.js';
import { dataSourceOptions } from './persistence/data-source-options.js';
import { APP_CONFIG, CLOCK, RUN_QUEUE } from './tokens.js';
import { VersionLedgerRepository } from './versions/version-ledger.repository.js';
import { VersionsService } from './versions/versions.service.js';
import { AccountsController } from './web/accounts.controller.js';
import { ConnectController } from './web/connect.controller.js';
import { HealthController } from './web/health.controller.js';
import { RunsController } from './web/runs.controller.js';
import { TasksController } from './web/tasks.controller.js';
import { VersionsController } from './web/versions.controller.js';

/** Recovers runs a dead process left behind, once the app is up; stops the queue on shutdown. */
@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly runs: RunsService,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runs.recoverAfterRestart();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

export interface AppModuleOptions {
  config: AppConfig;
  clock?: Clock;
  registry?: ConnectorRegistry;
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: AppModule,
      imports: [
        EventEmitterModule.forRoot({ wildcard: false }),
        TypeOrmModule.forRootAsync({ useFactory: () => dataSourceOptions(config.database) }),
      ],
      controllers: [
        HealthController,
        AccountsController,
        ConnectController,
        TasksController,
        RunsController,
        VersionsController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: opts.clock ?? systemClock },
        { provide: ConnectorRegistry, useValue: opts.registry ?? new ConnectorRegistry() },
        { provide: SecretVault, useFactory: () => SecretVault.open(config.secrets) },
        {
          provide: Database,
          useFactory: (ds: DataSource) => new Database(ds),
          inject: [DataSource],
        },
        {
          provide: AccountsRepository,
          useFactory: (db: Database) => new AccountsRepository(db),
          inject: [Database],
        },
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
          provide: VersionLedgerRepository,
          useFactory: (db: Database) => new VersionLedgerRepository(db),
          inject: [Database],
        },
        {
          provide: VersionsService,
          useFactory: (l: VersionLedgerRepository) => new VersionsService(l),
          inject: [VersionLedgerRepository],
        },
        {
          provide: AccountsService,
          useFactory: (r: AccountsRepository, reg: ConnectorRegistry, v: SecretVault, c: Clock) =>
            new AccountsService(r, reg, v, c),
          inject: [AccountsRepository, ConnectorRegistry, SecretVault, CLOCK],
        },
        {
          provide: OAuthConnectService,
          useFactory: (a: AccountsService, reg: ConnectorRegistry, c: Clock) =>
            new OAuthConnectService(
              a,
              reg,
              config.oauth,
              config.publicUrl,
              // Embedded mode: pending flows live in this process for 10 minutes.
              new InMemoryOAuthStateStore(c),
              c,
            ),
          inject: [AccountsService, ConnectorRegistry, CLOCK],
        },
        {
          provide: ICloudSignInService,
          useFactory: (a: AccountsService) =>
            new ICloudSignInService(a, (endpoints) => new ICloudAuthService(endpoints)),
          inject: [AccountsService],
        },
        {
          provide: BackupRunner,
          useFactory: (
            runs: RunsRepository,
            tasks: TasksRepository,
            versions: VersionsService,
            accounts: AccountsService,
            bus: EventEmitter2,
            clock: Clock,
          ) =>
            new BackupRunner(
              runs,
              tasks,
              versions,
              accounts,
              new EventEmitterRunEvents(bus),
              clock,
              config.backup,
            ),
          inject: [
            RunsRepository,
            TasksRepository,
            VersionsService,
            AccountsService,
            EventEmitter2,
            CLOCK,
          ],
        },
        {
          provide: RUN_QUEUE,
          useFactory: (runner: BackupRunner) =>
            new EmbeddedRunQueue(
              (id, signal) => runner.execute(id, signal),
              config.backup.maxParallelRuns,
            ),
          inject: [BackupRunner],
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
        {
          provide: TasksService,
          useFactory: (
            tasks: TasksRepository,
            runs: RunsRepository,
            accounts: AccountsService,
            clock: Clock,
          ) => new TasksService(tasks, runs, accounts, clock, config.backup.defaultConcurrency),
          inject: [TasksRepository, RunsRepository, AccountsService, CLOCK],
        },
        Lifecycle,
      ],
    };
  }
}
