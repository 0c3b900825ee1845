import { LocalRunControl } from '../../../src/runs/run-control.js';
import type { RunEventsSink } from '../../../src/runs/run-events.js';
import { RepositoryRunRecorder } from '../../../src/runs/run-recorder.js';
import { aRun } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('LocalRunControl', () => {
  it('should hold a paused run until it is resumed', async () => {
    const sut = new LocalRunControl();
    await sut.pause('r1');
    let released = false;
    const waiting = sut.waitWhilePaused('r1', new AbortController().signal).then(() => {
      released = true;
    });

    await tick();
    expect(released).toBe(false);
    await sut.resume('r1');
    await waiting;
    expect(sut.isPaused('r1')).toBe(false);
  });

  it('should release a paused run and tell the queue when it is cancelled', async () => {
    const sut = new LocalRunControl();
    const cancelled: string[] = [];
    sut.onCancel((id) => cancelled.push(id));
    await sut.pause('r1');
    const waiting = sut.waitWhilePaused('r1', new AbortController().signal);

    await sut.cancel('r1');

    await waiting;
    expect(cancelled).toEqual(['r1']);
    expect(sut.isPaused('r1')).toBe(false);
  });

  it('should not hold a run that is not paused', async () => {
    await expect(
      new LocalRunControl().waitWhilePaused('r1', new AbortController().signal),
    ).resolves.toBeUndefined();
  });
});

describe('RepositoryRunRecorder.checkpoint with a pause', () => {
  it('should show the paused phase while held and the previous phase once resumed', async () => {
    const phases: string[] = [];
    const runs = {
      update: (_id: string, patch: { phase?: string }) => {
        if (patch.phase) phases.push(patch.phase);
        return Promise.resolve();
      },
      addEvents: () => Promise.resolve(),
    };
    const events: RunEventsSink = { runStarted() {}, runProgress() {}, runFinished() {} };
    const control = new LocalRunControl();
    const sut = new RepositoryRunRecorder(aRun(), {
      runs,
      events,
      clock: new FakeClock(),
      pauses: control,
    });
    await sut.start('transferring');
    await control.pause('run-1');
    const signal = new AbortController().signal;

    const held = [sut.checkpoint(signal), sut.checkpoint(signal)];
    await tick();
    expect(phases).toEqual(['transferring', 'paused']);
    await control.resume('run-1');
    await Promise.all(held);

    expect(phases).toEqual(['transferring', 'paused', 'transferring']);
  });
});
