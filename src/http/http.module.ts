import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { RestoreModule } from '../backup/restore.module.js';
import { TasksModule } from '../backup/tasks.module.js';
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
import { RestoreController } from './restore.controller.js';
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
    RestoreModule,
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
    SecuritySettingsController,
    DashboardController,
  ],
})
export class HttpModule {}
