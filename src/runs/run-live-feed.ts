import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import { RUN_EVENTS, type RunProgressEvent } from './run-events.js';

export type RunEventName = (typeof RUN_EVENTS)[keyof typeof RUN_EVENTS];

/** One run event as the live views see it: the event's name and its payload. */
export type RunLiveEvent =
  | { name: typeof RUN_EVENTS.progress; progress: RunProgressEvent }
  | { name: Exclude<RunEventName, typeof RUN_EVENTS.progress>; run: RunEntity };

/**
 * The live view of every run, whichever node executes it (SSE, the run page). Embedded: this
 * process's event bus. Cluster: Redis pub/sub, so an API node sees a worker's runs. Domain
 * listeners (notifications, retention) stay on the local bus of the node that executes the run,
 * so each reacts once.
 */
export interface RunLiveFeed {
  /** Calls `listener` for each run event from now on; the returned function unsubscribes. */
  subscribe(listener: (e: RunLiveEvent) => void): () => void;
}

/** Embedded mode: the live feed is this process's event bus. */
export class LocalRunLiveFeed implements RunLiveFeed {
  constructor(private readonly bus: EventEmitter2) {}

  subscribe(listener: (e: RunLiveEvent) => void): () => void {
    const handlers = Object.values(RUN_EVENTS).map((name) => {
      const fn = (payload: RunEntity | RunProgressEvent) =>
        listener(
          name === RUN_EVENTS.progress
            ? { name, progress: payload as RunProgressEvent }
            : { name, run: payload as RunEntity },
        );
      this.bus.on(name, fn);
      return [name, fn] as const;
    });
    return () => {
      for (const [name, fn] of handlers) this.bus.off(name, fn);
    };
  }
}
