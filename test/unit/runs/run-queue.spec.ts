import { EmbeddedRunQueue } from '../../../src/runs/run-queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('EmbeddedRunQueue', () => {
  it('should never run two runs of the same task together', async () => {
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const sut = new EmbeddedRunQueue(async (id) => {
      started.push(id);
      const g = deferred();
      gates.set(id, g);
      await g.promise;
    }, 4);

    sut.enqueue('r1', 'taskA');
    sut.enqueue('r2', 'taskA');
    sut.enqueue('r3', 'taskB');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['r1', 'r3']);
    gates.get('r1')!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['r1', 'r3', 'r2']);
    gates.get('r2')!.resolve();
    gates.get('r3')!.resolve();
    await sut.idle();
  });

  it('should respect the parallel limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const sut = new EmbeddedRunQueue(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    }, 2);
    for (let i = 0; i < 6; i++) sut.enqueue(`r${i}`, `t${i}`);
    await sut.idle();
    expect(peak).toBe(2);
  });

  it('should abort a running run when cancelled', async () => {
    let aborted = false;
    const sut = new EmbeddedRunQueue(
      (_id, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
      1,
    );
    sut.enqueue('r1', 't');
    await new Promise((r) => setImmediate(r));
    expect(sut.cancel('r1')).toBe(true);
    await sut.idle();
    expect(aborted).toBe(true);
  });
});
