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
import { AuthGuard } from './auth/auth.guard.js';
import { AuthService } from './auth/auth.service.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { Ownership } from './auth/ownership.js';
import { BackupRunner } from './backup/backup-runner.js';
import type { RunEntity } from './backup/entities/run.entity.js';
import { LedgerImportService } from './backup/ledger-import.service.js';
import { PruneRunner } from './backup/prune-runner.js';
import { RestoreRunner } from './backup/restore-runner.js';
import { RestoreService } from './backup/restore.service.js';
import { RUN_EVENTS } from './backup/run-events.js';
import { EventEmitterRunEvents } from './backup/event-emitter-run-events.js';
import { EmbeddedRunQueue, type RunQueue } from './backup/run-queue.js';
import { RunsRepository } from './backup/runs.repository.js';
import { RunsService } from './backup/runs.service.js';
import { TasksRepository } from './backup/tasks.repository.js';
import { TasksService } from './backup/tasks.service.js';
import { systemClock, type Clock } from './common/clock.js';
import { releaseMemoryAfterRun } from './common/memory.js';
import type { AppConfig } from './config/app-config.js';
import { ConnectorRegistry } from './connectors/connector.registry.js';
import { ICloudAuthService } from './connectors/icloud-photos/index.js';
import { Database } from './persistence/database.js';
import { dataSourceOptions } from './persistence/data-source-options.js';
import { APP_CONFIG, CLOCK, RUN_QUEUE, SCHEDULE_TRIGGER } from './tokens.js';
import { VersionLedgerRepository } from './versions/version-ledger.repository.js';
import { VersionsService } from './versions/versions.service.js';
import { AccountsController } from './web/accounts.controller.js';
import { DashboardController } from './web/dashboard.controller.js';
import { ConnectController } from './web/connect.controller.js';
import { HealthController } from './web/health.controller.js';
import { RunsController } from './web/runs.controller.js';
import { RunStreamController } from './web/run-stream.controller.js';
import { TasksController } from './web/tasks.controller.js';
import { RestoreController } from './web/restore.controller.js';
import { VersionsController } from './web/versions.controller.js';
import { SchedulerService } from './scheduler/scheduler.service.js';
import { schedulerProviders } from './scheduler/scheduler.providers.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { notificationsProviders } from './notifications/notifications.providers.js';
import { SchedulesController } from './web/schedules.controller.js';
import { SettingsController } from './web/settings.controller.js';
import { AuthController } from './web/auth.controller.js';
import { TokensController, UsersController } from './web/users.controller.js';
import { APP_GUARD } from '@nestjs/core';

/**
 * Once the app is up: recovers runs a dead process left behind (embedded mode only: in a cluster
 * other nodes may be running them, and BullMQ's stalled-job check recovers a dead worker's
 * jobs), then starts the scheduler (catch-up first). On shutdown: scheduler, queue, mails.
 */
@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly runs: RunsService,
    @Inject(RUN_QUEUE) private readonly queue: RunQueue,
    private readonly scheduler: SchedulerService,
    private readonly notifications: NotificationsService,
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.auth.ensureAdmin(this.config.auth.adminUsername, this.config.auth.adminPassword);
    if (!this.config.cluster) await this.runs.recoverAfterRestart();
    await this.scheduler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.close();
    await this.queue.close();
    await this.notifications.idle();
    await this.auth.close();
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
        AuthController,
        UsersController,
        TokensController,
        AccountsController,
        ConnectController,
        TasksController,
        RunsController,
        RunStreamController,
        VersionsController,
        SchedulesController,
        SettingsController,
        RestoreController,
        DashboardController,
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
        { provide: APP_GUARD, useClass: AuthGuard },
        {
          provide: AuthService,
          useFactory: async (db: Database, a: AccountsRepository, t: TasksRepository, c: Clock) =>
            new AuthService(
              db,
              a,
              t,
              await LoginThrottle.create({
                maxFailures: config.auth.maxLoginFailures,
                lockSeconds: config.auth.loginLockSeconds,
                maxFailuresPerAddress: config.auth.maxLoginFailuresPerAddress,
                redisUrl: config.cluster?.redisUrl,
              }),
              c,
            ),
          inject: [Database, AccountsRepository, TasksRepository, CLOCK],
        },
        {
          provide: Ownership,
          useFactory: (
            a: AccountsService,
            t: TasksRepository,
            r: RunsRepository,
            v: VersionsService,
          ) => new Ownership(a, t, r, v),
          inject: [AccountsService, TasksRepository, RunsRepository, VersionsService],
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
          useFactory: (
            r: AccountsRepository,
            reg: ConnectorRegistry,
            v: SecretVault,
            c: Clock,
            bus: EventEmitter2,
          ) => new AccountsService(r, reg, v, c, bus),
          inject: [AccountsRepository, ConnectorRegistry, SecretVault, CLOCK, EventEmitter2],
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
          // bullmq and ioredis are imported only in a cluster (~20 MiB a single node never uses).
          useFactory: async (
            runner: BackupRunner,
            runs: RunsRepository,
            versions: VersionsService,
            clock: Clock,
          ) => {
            const execute = (id: string, signal: AbortSignal) =>
              runner.execute(id, signal).finally(releaseMemoryAfterRun);
            return config.cluster
              ? new (await import('./backup/bullmq-run-queue.js')).BullMqRunQueue(
                  config.cluster,
                  // An API-only node queues runs; workers execute them.
                  config.role === 'api' ? undefined : execute,
                  config.backup.maxParallelRuns,
                  async (runId, reason) => {
                    const message = `the run was given up after its workers stopped twice (${reason}); the next run continues from what it stored`;
                    if (await runs.failIfActive(runId, message, clock.now()))
                      await versions.markRunVersionsPartial(runId);
                  },
                )
              : new EmbeddedRunQueue(execute, config.backup.maxParallelRuns);
          },
          inject: [BackupRunner, RunsRepository, VersionsService, CLOCK],
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
        {
          provide: RestoreRunner,
          useFactory: (
            runs: RunsRepository,
            tasks: TasksRepository,
            versions: VersionsService,
            accounts: AccountsService,
            bus: EventEmitter2,
            clock: Clock,
            runner: BackupRunner,
          ) => {
            const restore = new RestoreRunner(
              runs,
              tasks,
              versions,
              accounts,
              new EventEmitterRunEvents(bus),
              clock,
              config.backup,
            );
            runner.registerKind('restore', restore);
            runner.registerKind(
              'prune',
              new PruneRunner(
                runs,
                tasks,
                versions,
                accounts,
                new EventEmitterRunEvents(bus),
                clock,
              ),
            );
            return restore;
          },
          inject: [
            RunsRepository,
            TasksRepository,
            VersionsService,
            AccountsService,
            EventEmitter2,
            CLOCK,
            BackupRunner,
          ],
        },
        {
          provide: RestoreService,
          useFactory: (
            runs: RunsRepository,
            tasks: TasksRepository,
            versions: VersionsService,
            accounts: AccountsService,
            queue: RunQueue,
            clock: Clock,
            bus: EventEmitter2,
          ) => {
            const service = new RestoreService(runs, tasks, versions, accounts, queue, clock);
            // Retention follows every completed backup of a task that has a policy.
            bus.on(RUN_EVENTS.completed, (run: RunEntity) => {
              if (run.kind === 'backup')
                void service.pruneAfterBackup(run.taskId).catch(() => undefined);
            });
            return service;
          },
          inject: [
            RunsRepository,
            TasksRepository,
            VersionsService,
            AccountsService,
            RUN_QUEUE,
            CLOCK,
            EventEmitter2,
            RestoreRunner,
          ],
        },
        {
          provide: LedgerImportService,
          useFactory: (tasks: TasksService, versions: VersionsService, accounts: AccountsService) =>
            new LedgerImportService(tasks, versions, accounts),
          inject: [TasksService, VersionsService, AccountsService],
        },
        ...schedulerProviders(
          config.cluster
            ? {
                provide: SCHEDULE_TRIGGER,
                useFactory: async () =>
                  new (
                    await import('./scheduler/bullmq-schedule-trigger.js')
                  ).BullMqScheduleTrigger(config.cluster!, config.role),
              }
            : undefined,
        ),
        ...notificationsProviders(config),
        Lifecycle,
      ],
    };
  }
}
