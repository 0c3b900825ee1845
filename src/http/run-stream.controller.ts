import { Controller, Inject, Param, Sse, type MessageEvent } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { RUN_EVENTS } from '../runs/run-events.js';
import type { RunLiveEvent, RunLiveFeed } from '../runs/run-live-feed.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { RunsService } from '../runs/runs.service.js';
import { RUN_LIVE_FEED } from '../tokens.js';
import { toRunView } from './views.js';

/** The events a run's stream carries; `run` first, then `progress`, then one final event. */
export type RunStreamEventType =
  'run' | 'started' | 'progress' | 'completed' | 'failed' | 'cancelled';

const FINAL: Record<string, RunStreamEventType> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'completed',
  warning: 'completed',
  offline: 'failed',
};

/**
 * Live progress of one run as server-sent events, for the run page: the run as it is now
 * (`run`), then its counters as the engine flushes them (`progress`, about once a second), and a
 * last event with the finished run (`completed`, `failed` or `cancelled`), after which the
 * stream ends. A run that already ended answers its `run` event and ends.
 */
@ApiTags('runs')
@Controller('api/runs')
export class RunStreamController {
  constructor(
    private readonly runs: RunsService,
    @Inject(RUN_LIVE_FEED) private readonly feed: RunLiveFeed,
    private readonly owners: Ownership,
  ) {}

  @Sse(':id/stream')
  async stream(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
  ): Promise<Observable<MessageEvent>> {
    await this.owners.run(p, id); // 404 as JSON before the stream starts
    return new Observable<MessageEvent>((subscriber) => {
      // Listen first, then read the run: nothing that happens in between is lost.
      let snapshotSent = false;
      const early: MessageEvent[] = [];
      const send = (e: MessageEvent) => {
        if (!snapshotSent) {
          early.push(e);
          return;
        }
        subscriber.next(e);
        if (e.type !== 'progress' && e.type !== 'started') subscriber.complete();
      };
      // Any node's runs: the live feed is Redis pub/sub in a cluster, this process's bus otherwise.
      const unsubscribe = this.feed.subscribe((e: RunLiveEvent) => {
        if ('progress' in e) {
          if (e.progress.runId !== id) return;
          const { runId: _runId, taskId: _taskId, ...counters } = e.progress;
          send({ type: 'progress', data: counters });
        } else if (e.run.id === id) {
          // The final event's type follows the run's status, so a new outcome needs no change here.
          const type =
            e.name === RUN_EVENTS.started ? 'started' : (FINAL[e.run.status] ?? 'failed');
          send({ type, data: toRunView(e.run) });
        }
      });
      this.runs.get(id).then(
        (run) => {
          subscriber.next({ type: 'run', data: toRunView(run) });
          if (FINAL[run.status]) {
            subscriber.complete();
            return;
          }
          snapshotSent = true;
          for (const e of early.splice(0)) if (!subscriber.closed) send(e);
        },
        (e: unknown) => subscriber.error(e),
      );
      return unsubscribe;
    });
  }
}
