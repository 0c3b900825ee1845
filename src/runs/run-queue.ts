import { Logger } from '@nestjs/common';

/** The port the engine enqueues runs on: in-process here, BullMQ in cluster mode (later). */
export interface RunQueue {
  enqueue(runId: string, taskId: string): void;
  cancel(runId: string): boolean;
  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Executes one run (the dispatcher), aborted through the signal on cancel or shutdown. */
export type RunJobHandler = (runId: string, signal: AbortSignal) => Promise<void>;

/**
 * Embedded mode: a FIFO in this process, at most `parallel` runs at once and never two runs of the
 * same task together (a second one waits for the first).
 */
export class EmbeddedRunQueue implements RunQueue {
  private readonly logger = new Logger('RunQueue');
  private readonly waiting: Array<{ runId: string; taskId: string }> = [];
  private readonly active = new Map<
    string,
    { taskId: string; controller: AbortController; done: Promise<void> }
  >();
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly execute: RunJobHandler,
    private readonly parallel: number,
  ) {}

  enqueue(runId: string, taskId: string): void {
    if (this.closed) throw new Error('the run queue is shut down');
    this.waiting.push({ runId, taskId });
    this.pump();
  }

  cancel(runId: string): boolean {
    const active = this.active.get(runId);
    if (active) {
      active.controller.abort(new Error('cancelled by the user'));
      return true;
    }
    const i = this.waiting.findIndex((w) => w.runId === runId);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.notifyIdle();
      return true;
    }
    return false;
  }

  isActive(runId: string): boolean {
    return this.active.has(runId) || this.waiting.some((w) => w.runId === runId);
  }

  idle(): Promise<void> {
    if (this.active.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    for (const a of this.active.values())
      a.controller.abort(new Error('the engine is shutting down'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private pump(): void {
    while (this.active.size < this.parallel) {
      const busyTasks = new Set([...this.active.values()].map((a) => a.taskId));
      const i = this.waiting.findIndex((w) => !busyTasks.has(w.taskId));
      if (i < 0) break;
      const [next] = this.waiting.splice(i, 1);
      const controller = new AbortController();
      const done = this.execute(next!.runId, controller.signal)
        .catch((e: unknown) =>
          this.logger.error(`run ${next!.runId} crashed: ${(e as Error).stack ?? String(e)}`),
        )
        .finally(() => {
          this.active.delete(next!.runId);
          this.pump();
          this.notifyIdle();
        });
      this.active.set(next!.runId, { taskId: next!.taskId, controller, done });
    }
  }

  private notifyIdle(): void {
    if (this.active.size > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
