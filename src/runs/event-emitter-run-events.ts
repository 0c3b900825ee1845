import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import { RUN_EVENTS, type RunEventsSink, type RunProgressEvent } from './run-events.js';
import { finishedEventOf } from './run-outcome.js';

/** Publishes run events on Nest's event bus (notifications and the live UI subscribe). */
export class EventEmitterRunEvents implements RunEventsSink {
  constructor(private readonly bus: EventEmitter2) {}

  runStarted(run: RunEntity): void {
    this.bus.emit(RUN_EVENTS.started, run);
  }

  runProgress(p: RunProgressEvent): void {
    this.bus.emit(RUN_EVENTS.progress, p);
  }

  runFinished(run: RunEntity): void {
    this.bus.emit(finishedEventOf(run.status), run);
  }
}
