import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RunPauseGate } from './run-recorder.js';

/**
 * Cancel and pause of runs, from whichever node the request reaches to whichever node executes
 * the run. A pause holds the run between files (files in flight finish); resume lets it go on;
 * cancel aborts it (paused or not) or drops it from the queue.
 */
export interface RunControl extends RunPauseGate {
  cancel(runId: string): Promise<void>;
  pause(runId: string): Promise<void>;
  resume(runId: string): Promise<void>;
  /** Whether the run is paused, by whichever node (cluster: asked of Redis, not this node's memory). */
  pausedAnywhere(runId: string): Promise<boolean>;
  /** This node's queue: told to cancel a run it executes or holds. */
  onCancel(handler: (runId: string) => void): void;
}

type ControlMessage = { op: 'cancel' | 'pause' | 'resume'; runId: string };

/** Embedded mode: one process, so a request is applied where it is made. */
export class LocalRunControl implements RunControl {
  private readonly paused = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly cancelHandlers: Array<(runId: string) => void> = [];

  cancel(runId: string): Promise<void> {
    this.apply({ op: 'cancel', runId });
    return Promise.resolve();
  }

  pause(runId: string): Promise<void> {
    this.apply({ op: 'pause', runId });
    return Promise.resolve();
  }

  resume(runId: string): Promise<void> {
    this.apply({ op: 'resume', runId });
    return Promise.resolve();
  }

  isPaused(runId: string): boolean {
    return this.paused.has(runId);
  }

  pausedAnywhere(runId: string): Promise<boolean> {
    return Promise.resolve(this.paused.has(runId));
  }

  onCancel(handler: (runId: string) => void): void {
    this.cancelHandlers.push(handler);
  }

  /** Resolves when the run is resumed or cancelled, or its signal fires. */
  waitWhilePaused(runId: string, signal: AbortSignal): Promise<void> {
    if (!this.paused.has(runId) || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(runId) ?? new Set();
      this.waiters.set(runId, set);
      const done = () => {
        set.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      set.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  protected apply(m: ControlMessage): void {
    switch (m.op) {
      case 'pause':
        this.paused.add(m.runId);
        return;
      case 'resume':
        this.release(m.runId);
        return;
      case 'cancel':
        for (const h of this.cancelHandlers) h(m.runId);
        this.release(m.runId);
        return;
    }
  }

  private release(runId: string): void {
    this.paused.delete(runId);
    for (const w of [...(this.waiters.get(runId) ?? [])]) w();
    this.waiters.delete(runId);
  }
}

/** How long a pause is kept in Redis for a run nobody resumes or cancels (a run given up). */
const PAUSE_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Cluster mode: requests are published on a Redis channel every node subscribes to (the node
 * that made the request included); each node applies them to what it executes or holds. A pause
 * is also kept in Redis (`<prefix>:run-paused:<run id>`) until resume or cancel, so a worker that
 * takes a run over (its first worker died or was replaced) holds it too, and any API node can
 * tell it is paused.
 */
export class RedisRunControl extends LocalRunControl {
  private readonly logger = new Logger('RunControl');
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    subscriber: Redis,
    private readonly prefix: string,
  ) {
    super();
    this.channel = `${prefix}:run-control`;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const m = JSON.parse(message) as ControlMessage;
        if (typeof m.runId === 'string' && ['cancel', 'pause', 'resume'].includes(m.op))
          this.apply(m);
      } catch {
        this.logger.warn('ignored a malformed run control message');
      }
    });
    subscriber.subscribe(this.channel).catch((e: unknown) => {
      this.logger.error(`cannot subscribe to ${this.channel}: ${String(e)}`);
    });
  }

  override async cancel(runId: string): Promise<void> {
    await this.publisher.del(this.pausedKey(runId));
    await this.send({ op: 'cancel', runId });
  }

  override async pause(runId: string): Promise<void> {
    await this.publisher.set(this.pausedKey(runId), '1', 'EX', PAUSE_TTL_SECONDS);
    await this.send({ op: 'pause', runId });
  }

  override async resume(runId: string): Promise<void> {
    await this.publisher.del(this.pausedKey(runId));
    await this.send({ op: 'resume', runId });
  }

  override async pausedAnywhere(runId: string): Promise<boolean> {
    return (await this.publisher.exists(this.pausedKey(runId))) === 1;
  }

  /** Before this node executes a run: a pause made while another node held it applies here. */
  async adopt(runId: string): Promise<void> {
    if (await this.pausedAnywhere(runId)) this.apply({ op: 'pause', runId });
  }

  private pausedKey(runId: string): string {
    return `${this.prefix}:run-paused:${runId}`;
  }

  private async send(m: ControlMessage): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(m));
  }
}
