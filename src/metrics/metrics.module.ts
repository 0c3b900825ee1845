import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import type { AppConfig } from '../config/app-config.js';
import { observeConnectorTraffic } from '../connectors/request-observer.js';
import { RUN_EVENTS } from '../runs/run-events.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsListener } from './metrics-listener.js';
import { MetricsService } from './metrics.service.js';

/**
 * Subscribes the run counters to the run events and the request counters to the connectors'
 * traffic (nobody calls the metrics directly).
 */
class RunMetricsListener implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(
    private readonly metrics: MetricsService,
    private readonly bus: EventEmitter2,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = observeConnectorTraffic((e) => this.metrics.connectorTraffic(e));
    this.bus.on(RUN_EVENTS.started, (run: RunEntity) => this.metrics.runStarted(run));
    for (const event of [RUN_EVENTS.completed, RUN_EVENTS.failed, RUN_EVENTS.cancelled]) {
      this.bus.on(event, (run: RunEntity) => {
        // A metrics query that fails (database gone) must never disturb a run.
        void this.metrics.runFinished(run).catch(() => undefined);
      });
    }
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}

const METRICS_LISTENER = Symbol('METRICS_LISTENER');

/** Starts and stops the METRICS_LISTEN address with the app. */
class MetricsListenerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(METRICS_LISTENER) private readonly listener: MetricsListener | null) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.listener) return;
    const { port } = await this.listener.start();
    new Logger('Metrics').log(`Prometheus metrics at /metrics on port ${port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }
}

/** Prometheus metrics: /api/metrics (admin token) and METRICS_LISTEN's /metrics. */
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: MetricsService,
          useFactory: (ds: DataSource) => new MetricsService(ds),
          inject: [DataSource],
        },
        {
          provide: METRICS_LISTENER,
          useFactory: (m: MetricsService) =>
            config.operations.metricsListen
              ? new MetricsListener(
                  m,
                  config.operations.metricsListen,
                  config.operations.metricsToken,
                )
              : null,
          inject: [MetricsService],
        },
        MetricsListenerLifecycle,
        {
          provide: RunMetricsListener,
          useFactory: (m: MetricsService, bus: EventEmitter2) => new RunMetricsListener(m, bus),
          inject: [MetricsService, EventEmitter2],
        },
      ],
    };
  }
}
