import { Inject, Module, type DynamicModule, type OnModuleDestroy } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { HealthController } from './health.controller.js';
import { createRedisProbe, HealthService, type RedisProbe } from './health.service.js';

const REDIS_PROBE = Symbol('REDIS_PROBE');

class RedisProbeCloser implements OnModuleDestroy {
  constructor(@Inject(REDIS_PROBE) private readonly probe: RedisProbe | undefined) {}
  async onModuleDestroy(): Promise<void> {
    await this.probe?.close();
  }
}

/** Liveness, readiness and on-demand account checks (`/api/health/*`). */
@Module({})
export class HealthModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
      controllers: [HealthController],
      providers: [
        {
          provide: REDIS_PROBE,
          useFactory: () =>
            config.cluster ? createRedisProbe(config.cluster.redisUrl) : undefined,
        },
        RedisProbeCloser,
        {
          provide: HealthService,
          useFactory: (
            checks: HealthCheckService,
            indicators: HealthIndicatorService,
            ds: DataSource,
            redis: RedisProbe | undefined,
          ) => new HealthService(checks, indicators, ds, config, redis),
          inject: [HealthCheckService, HealthIndicatorService, DataSource, REDIS_PROBE],
        },
      ],
    };
  }
}
