import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { VersionRequestsModule } from '../version-requests/version-requests.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { VersionsModule } from '../versions/versions.module.js';
import { AccountsController } from './accounts.controller.js';
import { AuthController } from './auth.controller.js';
import { ConnectController } from './connect.controller.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardModule } from './dashboard.module.js';
import { HealthController } from './health.controller.js';
import { LedgerController } from './ledger.controller.js';
import { RestoreController } from './restore.controller.js';
import { RetentionController } from './retention.controller.js';
import { VerifyController } from './verify.controller.js';
import { RunStreamController } from './run-stream.controller.js';
import { RunsController } from './runs.controller.js';
import { SchedulesController } from './schedules.controller.js';
import { SettingsController } from './settings.controller.js';
import { TasksController } from './tasks.controller.js';
import { TokensController, UsersController } from './users.controller.js';
import { VersionsController } from './versions.controller.js';
import { SecurityModule } from '../security/security.module.js';
import { SecuritySettingsController } from './security-settings.controller.js';

/** The HTTP API: thin controllers over the feature modules' exported services. */
@Module({
  imports: [
    AuthModule,
    AccountsModule,
    TasksModule,
    RunsModule,
    VersionsModule,
    VersionRequestsModule,
    SchedulerModule,
    NotificationsModule,
    SecurityModule,
    DashboardModule,
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
    RetentionController,
    VerifyController,
    LedgerController,
    SecuritySettingsController,
    DashboardController,
  ],
})
export class HttpModule {}
