import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Redis } from 'ioredis';
import { InMemoryLoginGateStore, RedisLoginGateStore } from '../auth/login-gate.js';
import { memoryLoginLimiters, redisLoginLimiters } from '../auth/login-throttle.js';
import { InMemoryOAuthStateStore, RedisOAuthStateStore } from '../accounts/oauth-state.store.js';
import { SecretVault } from '../accounts/secret-vault.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import {
  InMemoryNotificationRate,
  RedisNotificationRate,
} from '../notifications/notification-rate.js';
import { EventEmitterRunEvents } from '../runs/event-emitter-run-events.js';
import { RedisRunEvents } from '../runs/redis-run-events.js';
import { LocalRunControl, RedisRunControl } from '../runs/run-control.js';
import { LocalRunLiveFeed } from '../runs/run-live-feed.js';
import { EmbeddedRunQueue, type RunJobHandler, type RunQueue } from '../runs/run-queue.js';
import { EmbeddedScheduleTrigger } from '../scheduler/embedded-schedule-trigger.js';
import type { ScheduleTrigger } from '../scheduler/scheduler.service.js';
import {
  APP_CONFIG,
  CLOCK,
  NOTIFICATION_RATE,
  LOGIN_GATE_STORE,
  LOGIN_LIMITERS,
  OAUTH_STATE_STORE,
  RUN_CONTROL,
  RUN_EVENTS_SINK,
  RUN_LIVE_FEED,
  RUN_QUEUE_FACTORY,
  SCHEDULE_TRIGGER,
} from '../tokens.js';

/** Makes the run queue once the runs module has its dispatcher. */
export type RunQueueFactory = (
  execute: RunJobHandler,
  onGaveUp: (runId: string, reason: string) => Promise<void>,
) => Promise<RunQueue>;

/** Redis connections the cluster adapters share: one for commands, one in subscriber mode. */
@Injectable()
class RedisConnections implements OnApplicationShutdown {
  private commands: Redis | undefined;
  private subscriber: Redis | undefined;
  private failFast: Redis | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** bullmq and ioredis are imported only in a cluster (~20 MiB a single node never uses). */
  async get(): Promise<{ commands: Redis; subscriber: Redis; prefix: string }> {
    const cluster = this.config.cluster!;
    const { redisConnection } = await import('../runs/bullmq-run-queue.js');
    this.commands ??= redisConnection(cluster.redisUrl);
    this.subscriber ??= redisConnection(cluster.redisUrl);
    return { commands: this.commands, subscriber: this.subscriber, prefix: cluster.queuePrefix };
  }

  /**
   * For sign-in counters: no offline queue, so a sign-in fails at once when Redis is down
   * instead of waiting for it (the run queue's connection waits).
   */
  async signIns(): Promise<{ redis: Redis; prefix: string }> {
    const cluster = this.config.cluster!;
    const { Redis } = await import('ioredis');
    if (!this.failFast) {
      this.failFast = new Redis(cluster.redisUrl, { enableOfflineQueue: false });
      this.failFast.on('error', () => undefined); // surfaced by the calls that fail
    }
    return { redis: this.failFast, prefix: cluster.queuePrefix };
  }

  onApplicationShutdown(): void {
    this.commands?.disconnect();
    this.subscriber?.disconnect();
    this.failFast?.disconnect();
  }
}

const providers: Provider[] = [
  RedisConnections,
  {
    provide: RUN_QUEUE_FACTORY,
    useFactory:
      (config: AppConfig): RunQueueFactory =>
      async (execute, onGaveUp) =>
        config.cluster
          ? new (await import('../runs/bullmq-run-queue.js')).BullMqRunQueue(
              config.cluster,
              // An API-only node queues runs; workers execute them.
              config.role === 'api' ? undefined : execute,
              config.backup.maxParallelRuns,
              onGaveUp,
            )
          : new EmbeddedRunQueue(execute, config.backup.maxParallelRuns),
    inject: [APP_CONFIG],
  },
  {
    provide: SCHEDULE_TRIGGER,
    useFactory: async (config: AppConfig): Promise<ScheduleTrigger> =>
      config.cluster
        ? new (await import('../scheduler/bullmq-schedule-trigger.js')).BullMqScheduleTrigger(
            config.cluster,
            config.role,
          )
        : new EmbeddedScheduleTrigger(),
    inject: [APP_CONFIG],
  },
  {
    provide: RUN_EVENTS_SINK,
    useFactory: async (config: AppConfig, bus: EventEmitter2, redis: RedisConnections) => {
      const local = new EventEmitterRunEvents(bus);
      if (!config.cluster) return local;
      const { commands, subscriber, prefix } = await redis.get();
      return new RedisRunEvents(local, commands, subscriber, prefix);
    },
    inject: [APP_CONFIG, EventEmitter2, RedisConnections],
  },
  {
    provide: RUN_LIVE_FEED,
    // Cluster: the Redis adapter is both the sink and the feed.
    useFactory: (config: AppConfig, bus: EventEmitter2, sink: RedisRunEvents) =>
      config.cluster ? sink : new LocalRunLiveFeed(bus),
    inject: [APP_CONFIG, EventEmitter2, RUN_EVENTS_SINK],
  },
  {
    provide: RUN_CONTROL,
    useFactory: async (config: AppConfig, redis: RedisConnections) => {
      if (!config.cluster) return new LocalRunControl();
      const { commands, subscriber, prefix } = await redis.get();
      return new RedisRunControl(commands, subscriber, prefix);
    },
    inject: [APP_CONFIG, RedisConnections],
  },
  {
    provide: OAUTH_STATE_STORE,
    useFactory: async (config: AppConfig, clock: Clock, redis: RedisConnections) => {
      // Embedded mode: pending flows live in this process for 10 minutes.
      if (!config.cluster) return new InMemoryOAuthStateStore(clock);
      const { commands, prefix } = await redis.get();
      return new RedisOAuthStateStore(commands, prefix, SecretVault.open(config.secrets));
    },
    inject: [APP_CONFIG, CLOCK, RedisConnections],
  },
  {
    provide: NOTIFICATION_RATE,
    // Cluster: any node may finish a task's run; the per-task rate is counted in Redis.
    useFactory: async (config: AppConfig, redis: RedisConnections) => {
      if (!config.cluster) return new InMemoryNotificationRate();
      const { commands, prefix } = await redis.get();
      return new RedisNotificationRate(commands, prefix);
    },
    inject: [APP_CONFIG, RedisConnections],
  },
  {
    provide: LOGIN_LIMITERS,
    useFactory: async (config: AppConfig, redis: RedisConnections) => {
      if (!config.cluster) return memoryLoginLimiters;
      const s = await redis.signIns();
      return redisLoginLimiters(s.redis, s.prefix);
    },
    inject: [APP_CONFIG, RedisConnections],
  },
  {
    provide: LOGIN_GATE_STORE,
    useFactory: async (config: AppConfig, redis: RedisConnections) => {
      if (!config.cluster) return new InMemoryLoginGateStore();
      const s = await redis.signIns();
      return new RedisLoginGateStore(s.redis, s.prefix);
    },
    inject: [APP_CONFIG, RedisConnections],
  },
];

/**
 * The one place adapters are chosen. Every piece of state a second node must see is a port with
 * an in-process adapter (embedded mode) and a Redis one (cluster mode, REDIS_URL set): the run
 * queue, the schedule trigger, run events (live progress, SSE), cancel and pause (a pause is
 * kept in Redis until resumed), OAuth state, the login throttle's counters, the sign-ins in
 * flight per address and the per-task notification rate. Pending iCloud sign-ins need no port:
 * the half-finished session waits in the account's sealed secrets in the database, which every
 * node shares.
 */
@Global()
@Module({
  providers,
  exports: [
    RUN_QUEUE_FACTORY,
    SCHEDULE_TRIGGER,
    RUN_EVENTS_SINK,
    RUN_LIVE_FEED,
    RUN_CONTROL,
    OAUTH_STATE_STORE,
    NOTIFICATION_RATE,
    LOGIN_LIMITERS,
    LOGIN_GATE_STORE,
  ],
})
export class PortsModule {}
