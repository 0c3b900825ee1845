import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { RunsRepository } from '../backup/runs.repository.js';
import { TasksModule } from '../backup/tasks.module.js';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Database } from '../persistence/database.js';
import { APP_CONFIG, CLOCK } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import { VersionsService } from '../versions/versions.service.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { LoginThrottle } from './login-throttle.js';
import { Ownership } from './ownership.js';

/** The first admin is created once the app is up; the login throttle's store closes at shutdown. */
@Injectable()
class AuthLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.auth.ensureAdmin(this.config.auth.adminUsername, this.config.auth.adminPassword);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.auth.close();
  }
}

/** Users, sessions, API tokens, the guard on every route, and who owns what. */
@Module({
  imports: [AccountsModule, TasksModule, VersionsModule],
  providers: [
    { provide: APP_GUARD, useClass: AuthGuard },
    {
      provide: AuthService,
      useFactory: async (
        db: Database,
        a: AccountsRepository,
        t: TasksRepository,
        c: Clock,
        config: AppConfig,
      ) =>
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
      inject: [Database, AccountsRepository, TasksRepository, CLOCK, APP_CONFIG],
    },
    {
      provide: Ownership,
      useFactory: (a: AccountsService, t: TasksRepository, r: RunsRepository, v: VersionsService) =>
        new Ownership(a, t, r, v),
      inject: [AccountsService, TasksRepository, RunsRepository, VersionsService],
    },
    AuthLifecycle,
  ],
  exports: [AuthService, Ownership],
})
export class AuthModule {}
