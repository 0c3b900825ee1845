import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import { RUN_EVENTS, type RunEventsSink, type RunProgressEvent } from './run-events.js';
import type { RunLiveEvent, RunLiveFeed } from './run-live-feed.js';
import { finishedEventOf } from './run-outcome.js';

const DATE_FIELDS = ['createdAt', 'startedAt', 'finishedAt', 'scheduledFor'] as const;

/**
 * Cluster mode: run events go to the local bus (the executing node's notifications and
 * retention react once) and to a Redis channel every node subscribes to, which feeds the live
 * views (SSE) of every API node. Progress is published about once a second per run (the
 * recorder throttles it), so the channel carries little.
 */
export class RedisRunEvents implements RunEventsSink, RunLiveFeed {
  private readonly logger = new Logger('RunEvents');
  private readonly listeners = new Set<(e: RunLiveEvent) => void>();
  private readonly channel: string;

  constructor(
    private readonly local: RunEventsSink,
    private readonly publisher: Redis,
    subscriber: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}:run-events`;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.deliver(message);
    });
    subscriber.subscribe(this.channel).catch((e: unknown) => {
      this.logger.error(`cannot subscribe to ${this.channel}: ${String(e)}`);
    });
  }

  runStarted(run: RunEntity): void {
    this.local.runStarted(run);
    this.publish({ name: RUN_EVENTS.started, run });
  }

  runProgress(p: RunProgressEvent): void {
    this.local.runProgress(p);
    this.publish({ name: RUN_EVENTS.progress, progress: p });
  }

  runFinished(run: RunEntity): void {
    this.local.runFinished(run);
    this.publish({ name: finishedEventOf(run.status), run } as RunLiveEvent);
  }

  subscribe(listener: (e: RunLiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(e: RunLiveEvent): void {
    this.publisher.publish(this.channel, JSON.stringify(e)).catch((err: unknown) => {
      this.logger.warn(`run event not published: ${String(err)}`);
    });
  }

  private deliver(message: string): void {
    let e: RunLiveEvent;
    try {
      e = JSON.parse(message) as RunLiveEvent;
    } catch {
      return;
    }
    if ('run' in e) {
      const run = e.run as unknown as Record<string, unknown>;
      for (const f of DATE_FIELDS) if (typeof run[f] === 'string') run[f] = new Date(run[f]);
    }
    for (const l of this.listeners) l(e);
  }
}
