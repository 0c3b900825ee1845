import { EventEmitter2 } from '@nestjs/event-emitter';
import type { MessageEvent } from '@nestjs/common';
import type { Principal } from '../../../src/auth/auth.service.js';
import type { Ownership } from '../../../src/auth/ownership.js';
import { RUN_EVENTS } from '../../../src/runs/run-events.js';
import { LocalRunLiveFeed } from '../../../src/runs/run-live-feed.js';
import type { RunsService } from '../../../src/runs/runs.service.js';
import { RunStreamController } from '../../../src/http/run-stream.controller.js';
import { aRun } from '../../factories/run.factory.js';

describe('RunStreamController', () => {
  function setup() {
    const bus = new EventEmitter2();
    const runs = {
      get: () => Promise.resolve(aRun({ status: 'running' })),
    } as unknown as RunsService;
    const owners = { run: () => Promise.resolve() } as unknown as Ownership;
    const sut = new RunStreamController(runs, new LocalRunLiveFeed(bus), owners);
    return { sut, bus };
  }

  it('should send the run, its progress and the final event, then end the stream', async () => {
    const { sut, bus } = setup();
    const seen: MessageEvent[] = [];
    const ended = new Promise<void>((resolve) =>
      sut
        .stream({} as Principal, 'run-1')
        .then((o) => o.subscribe({ next: (e) => seen.push(e), complete: resolve })),
    );
    await new Promise((r) => setImmediate(r));

    bus.emit(RUN_EVENTS.progress, { runId: 'other', taskId: 't', filesCopied: 9 });
    bus.emit(RUN_EVENTS.progress, { runId: 'run-1', taskId: 'task-1', filesCopied: 1 });
    bus.emit(RUN_EVENTS.completed, aRun({ status: 'completed', filesCopied: 2 }));
    await ended;

    expect(seen.map((e) => e.type)).toEqual(['run', 'progress', 'completed']);
    expect(seen[1]!.data).toEqual({ filesCopied: 1 });
  });

  it('should end with the type its status maps to whatever event announced it', async () => {
    const { sut, bus } = setup();
    const seen: MessageEvent[] = [];
    const ended = new Promise<void>((resolve) =>
      sut
        .stream({} as Principal, 'run-1')
        .then((o) => o.subscribe({ next: (e) => seen.push(e), complete: resolve })),
    );
    await new Promise((r) => setImmediate(r));

    bus.emit(RUN_EVENTS.failed, aRun({ status: 'cancelled' }));
    await ended;

    expect(seen.map((e) => e.type)).toEqual(['run', 'cancelled']);
  });
});
