import { Controller, Param, Sse, type MessageEvent } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Observable } from 'rxjs';
import type { RunEntity } from '../backup/entities/run.entity.js';
import { RUN_EVENTS, type RunProgressEvent } from '../runs/run-events.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { RunsService } from '../runs/runs.service.js';
import { toRunView } from './views.js';

/** The events a run's stream carries; `run` first, then `progress`, then one final event. */
export type RunStreamEventType =
  'run' | 'started' | 'progress' | 'completed' | 'failed' | 'cancelled';

const FINAL: Record<string, RunStreamEventType> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'completed',
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
    private readonly bus: EventEmitter2,
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
      const onProgress = (...args: unknown[]) => {
        const p = args[0] as RunProgressEvent;
        if (p.runId !== id) return;
        const { runId: _runId, taskId: _taskId, ...counters } = p;
        send({ type: 'progress', data: counters });
      };
      const onRun =
        (type: RunStreamEventType) =>
        (...args: unknown[]) => {
          const run = args[0] as RunEntity;
          if (run.id === id) send({ type, data: toRunView(run) });
        };
      const listeners: [string, (...args: unknown[]) => void][] = [
        [RUN_EVENTS.progress, onProgress],
        [RUN_EVENTS.started, onRun('started')],
        [RUN_EVENTS.completed, onRun('completed')],
        [RUN_EVENTS.failed, onRun('failed')],
        [RUN_EVENTS.cancelled, onRun('cancelled')],
      ];
      for (const [name, fn] of listeners) this.bus.on(name, fn);
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
      return () => {
        for (const [name, fn] of listeners) this.bus.off(name, fn);
      };
    });
  }
}
