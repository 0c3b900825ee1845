import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { RunEntity } from './entities/run.entity.js';
import { RUN_EVENTS, type RunEventsSink, type RunProgressEvent } from './run-events.js';

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
    const name =
      run.status === 'completed'
        ? RUN_EVENTS.completed
        : run.status === 'cancelled'
          ? RUN_EVENTS.cancelled
          : RUN_EVENTS.failed;
    this.bus.emit(name, run);
  }
}
