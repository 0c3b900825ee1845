import { Logger } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ClusterConfig } from '../config/app-config.js';
import type { RunJobHandler, RunQueue } from './run-queue.js';

export const RUNS_QUEUE = 'runs';

export interface RunJobData {
  runId: string;
  taskId: string;
}

/** A Redis connection as BullMQ wants it (blocking commands must not time out). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * Cluster mode: each run is one BullMQ job (id `run-<run id>`, so a run is queued once however
 * often it is enqueued). Workers hold a lock on the job while they execute it; a worker that dies
 * stops renewing it, BullMQ's stalled-job check puts the job back, and another worker executes the
 * run again (the dispatcher then marks what the dead attempt stored partial and reuses it). The
 * one-run-per-task rule is kept by the database (a task with a queued or running run gets no
 * second one), not by the queue.
 */
export class BullMqRunQueue implements RunQueue {
  private readonly logger = new Logger('RunQueue');
  private readonly queue: Queue<RunJobData>;
  private worker: Worker<RunJobData> | undefined;
  private readonly active = new Map<string, AbortController>();
  private readonly adding = new Set<Promise<unknown>>();
  private readonly connections: Redis[] = [];

  constructor(
    private readonly config: ClusterConfig,
    execute: RunJobHandler | undefined,
    private readonly concurrency: number,
    /** Told when BullMQ gives a run up (its workers died more than maxStalledCount times). */
    private readonly onGaveUp?: (runId: string, reason: string) => Promise<void>,
  ) {
    this.queue = new Queue<RunJobData>(RUNS_QUEUE, {
      connection: this.connect(),
      prefix: config.queuePrefix,
      defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000 },
    });
    if (execute) this.startWorker(execute);
  }

  enqueue(runId: string, taskId: string): void {
    const p = this.queue
      .add('backup', { runId, taskId }, { jobId: `run-${runId}` })
      .catch((e: unknown) => this.logger.error(`run ${runId} could not be queued: ${String(e)}`))
      .finally(() => this.adding.delete(p));
    this.adding.add(p);
  }

  /** Cancels a run this node executes, or removes one still waiting; false otherwise. */
  cancel(runId: string): boolean {
    const active = this.active.get(runId);
    if (active) {
      active.abort(new Error('cancelled by the user'));
      return true;
    }
    void this.queue.remove(`run-${runId}`).catch(() => undefined);
    return false;
  }

  /** Resolves when the cluster's run queue has nothing waiting, delayed or active. */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.adding]);
      const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(c).every((n) => n === 0)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    for (const a of this.active.values()) a.abort(new Error('the engine is shutting down'));
    await Promise.allSettled([...this.adding]);
    await this.worker?.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }

  private startWorker(execute: RunJobHandler): void {
    const name = `worker-${process.pid}`;
    this.worker = new Worker<RunJobData>(
      RUNS_QUEUE,
      async (job: Job<RunJobData>) => {
        const { runId } = job.data;
        this.logger.log(`executing run ${runId} on ${name} (attempt ${job.attemptsStarted})`);
        const controller = new AbortController();
        this.active.set(runId, controller);
        try {
          await execute(runId, controller.signal);
        } finally {
          this.active.delete(runId);
        }
      },
      {
        connection: this.connect(),
        prefix: this.config.queuePrefix,
        concurrency: this.concurrency,
        name,
        lockDuration: this.config.lockDurationMs,
        stalledInterval: Math.max(500, Math.floor(this.config.lockDurationMs / 2)),
        // A run whose workers died twice is given up; onGaveUp records it as failed.
        maxStalledCount: 2,
      },
    );
    this.worker.on('failed', (job, e) => {
      this.logger.error(`run ${job?.data.runId ?? '?'} crashed: ${e.stack ?? e.message}`);
      // Without this the run row would stay 'running' and block every later run of its task.
      if (job && this.onGaveUp) {
        void this.onGaveUp(job.data.runId, e.message).catch((err: unknown) =>
          this.logger.error(`run ${job.data.runId} could not be marked failed: ${String(err)}`),
        );
      }
    });
    this.worker.on('error', (e) => this.logger.error(`run worker: ${e.message}`));
  }

  private connect(): Redis {
    const c = redisConnection(this.config.redisUrl);
    this.connections.push(c);
    return c;
  }
}
