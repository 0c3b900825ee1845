import { Module, type DynamicModule } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AccountsModule } from './accounts/accounts.module.js';
import { AuthModule } from './auth/auth.module.js';
import { VersionRequestsModule } from './version-requests/version-requests.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import type { Clock } from './common/clock.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import type { ConnectorRegistry } from './connectors/connector.registry.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import { PortsModule } from './ports/ports.module.js';
import { RunsModule } from './runs/runs.module.js';
import { SchedulerModule } from './scheduler/scheduler.module.js';
import { VersionsModule } from './versions/versions.module.js';
import { HttpModule } from './http/http.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  clock?: Clock;
  registry?: ConnectorRegistry;
}

/**
 * The engine: infrastructure first (config, events, database, connectors, the ports' adapters),
 * then the features.
 */
@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(opts.config, opts.clock),
        EventEmitterModule.forRoot({ wildcard: false }),
        PersistenceModule.forRoot(opts.config.database),
        ConnectorsModule.forRoot(opts.registry),
        PortsModule,
        AccountsModule,
        AuthModule,
        TasksModule,
        VersionsModule,
        RunsModule,
        VersionRequestsModule,
        SchedulerModule,
        NotificationsModule,
        HttpModule,
        HealthModule.forRoot(opts.config),
        LoggingModule,
        MetricsModule.forRoot(opts.config),
      ],
    };
  }
}
