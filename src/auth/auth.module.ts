import { Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { RunsRepository } from '../tasks/runs.repository.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Database } from '../persistence/database.js';
import { APP_CONFIG, CLOCK, LOGIN_GATE_STORE, LOGIN_LIMITERS } from '../tokens.js';
import { VersionsModule } from '../versions/versions.module.js';
import { VersionsService } from '../versions/versions.service.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { LoginGate, type LoginGateStore } from './login-gate.js';
import { LoginThrottle, type LoginLimiterFactory } from './login-throttle.js';
import { Ownership } from './ownership.js';

/** The first admin is created once the app is up. */
@Injectable()
class AuthLifecycle implements OnApplicationBootstrap {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.auth.ensureAdmin(this.config.auth.adminUsername, this.config.auth.adminPassword);
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
        limiters: LoginLimiterFactory,
      ) =>
        new AuthService(
          db,
          a,
          t,
          new LoginThrottle(
            {
              maxFailures: config.auth.maxLoginFailures,
              lockSeconds: config.auth.loginLockSeconds,
              maxFailuresPerAddress: config.auth.maxLoginFailuresPerAddress,
            },
            limiters,
          ),
          c,
        ),
      inject: [Database, AccountsRepository, TasksRepository, CLOCK, APP_CONFIG, LOGIN_LIMITERS],
    },
    {
      // app.factory.ts puts its middleware first, before any parsing.
      provide: LoginGate,
      useFactory: (store: LoginGateStore) => new LoginGate(store),
      inject: [LOGIN_GATE_STORE],
    },
    {
      provide: Ownership,
      useFactory: (a: AccountsService, t: TasksRepository, r: RunsRepository, v: VersionsService) =>
        new Ownership(a, t, r, v),
      inject: [AccountsService, TasksRepository, RunsRepository, VersionsService],
    },
    AuthLifecycle,
  ],
  exports: [AuthService, Ownership, LoginGate],
})
export class AuthModule {}
