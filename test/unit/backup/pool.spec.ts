import { createHook } from 'node:async_hooks';
import { runPool, runPoolOverBatches } from '../../../src/backup/transfer/pool.js';

describe('runPool', () => {
  it('should never run more than the given number of workers at once, and run every item', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 50; i++) yield i;
    }
    await runPool(items(), 4, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, i % 3));
      inFlight--;
      done.push(i);
    });
    expect(peak).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('should pull items only as workers free up', async () => {
    let produced = 0;
    let maxAhead = 0;
    let consumed = 0;
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 100; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield i;
      }
    }
    await runPool(items(), 2, async () => {
      await new Promise((r) => setTimeout(r, 1));
      consumed++;
    });
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  it('should stop and reject when a worker throws', async () => {
    let started = 0;
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 1000; i++) yield i;
    }
    await expect(
      runPool(items(), 2, async (i) => {
        started++;
        if (i === 5) throw new Error('ledger down');
        await new Promise((r) => setTimeout(r, 1));
      }),
    ).rejects.toThrow('ledger down');
    expect(started).toBeLessThan(20);
  });
});

/**
 * Concurrency that adapts to file size (issue #21): the task's concurrency counts files of a
 * usual size; small files are cheap in memory and dominated by per-request latency, so more of
 * them run at once, and bytes in flight bound what large ones may hold.
 */
describe('runPool with file sizes', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;

  /** Runs the pool over `sizes` and records how many (and which sizes) ran at once. */
  async function drive(
    sizes: Array<number | undefined>,
    concurrency: number,
  ): Promise<{ peak: number; snapshots: Array<Array<number | undefined>>; done: number[] }> {
    const running = new Map<number, () => void>();
    const snapshots: Array<Array<number | undefined>> = [];
    const done: number[] = [];
    let peak = 0;
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < sizes.length; i++) yield i;
    }
    const pool = runPool(
      items(),
      concurrency,
      (i) =>
        new Promise<void>((resolve) => {
          running.set(i, () => {
            done.push(i);
            resolve();
          });
        }),
      { sizeOf: (i) => sizes[i] },
    );
    let finished = false;
    void pool.finally(() => (finished = true));
    while (!finished) {
      // Let the pool start everything it may (no timers: one turn of the event loop).
      await new Promise((r) => setImmediate(r));
      if (running.size === 0) continue;
      peak = Math.max(peak, running.size);
      snapshots.push([...running.keys()].map((i) => sizes[i]));
      const [oldest, finish] = running.entries().next().value as [number, () => void];
      running.delete(oldest);
      finish();
    }
    await pool;
    return { peak, snapshots, done };
  }

  it('should run 2x the concurrency of files under 1 MiB', async () => {
    const { peak, done } = await drive(Array<number>(60).fill(32 * KiB), 4);
    expect(peak).toBe(8);
    expect(done).toHaveLength(60);
    expect((await drive(Array<number>(30).fill(512 * KiB), 4)).peak).toBe(8);
  });

  it('should run the given concurrency of large files, as before', async () => {
    const { peak } = await drive(Array<number>(12).fill(100 * MiB), 4);
    expect(peak).toBe(4);
  });

  it('should run one file at a time, small or not, at a concurrency of 1', async () => {
    expect((await drive(Array<number>(10).fill(8 * KiB), 1)).peak).toBe(1);
  });

  it('should hold large files to the bytes-in-flight bound when the concurrency is high', async () => {
    const { peak } = await drive(Array<number>(20).fill(2 * 1024 * MiB), 16);
    expect(peak).toBe(4); // 4 x 16 MiB charged = 64 MiB in flight
  });

  it('should count a file of unknown size as a large one', async () => {
    const { peak } = await drive(Array<undefined>(12).fill(undefined), 4);
    expect(peak).toBe(4);
  });

  it('should keep a mix of sizes within the concurrency, small ones filling what large ones leave', async () => {
    // 2 large then small files: 2 large hold half of the 4 slots, the small ones take the rest 2 to a slot.
    const sizes = [100 * MiB, 100 * MiB, ...Array<number>(30).fill(8 * KiB), 5 * MiB];
    const { peak, snapshots, done } = await drive(sizes, 4);
    expect(snapshots[0]).toEqual([100 * MiB, 100 * MiB, ...Array<number>(4).fill(8 * KiB)]);
    expect(peak).toBe(8); // once the large ones are over
    for (const s of snapshots) {
      const slots = s.reduce<number>((n, size) => n + (size! < MiB ? 0.5 : 1), 0);
      expect(slots).toBeLessThanOrEqual(4);
    }
    expect(done.sort((a, b) => a - b)).toEqual(sizes.map((_, i) => i));
  });

  it('should run files in the order they come, none overtaking a file waiting for room', async () => {
    const sizes = [8 * KiB, 100 * MiB, 100 * MiB, 100 * MiB, 100 * MiB, 8 * KiB];
    const order: number[] = [];
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < sizes.length; i++) yield i;
    }
    await runPool(
      items(),
      4,
      async (i) => {
        order.push(i);
        await new Promise((r) => setImmediate(r));
      },
      { sizeOf: (i) => sizes[i] },
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

/**
 * Items in batches (issue #21): the backup planner resolves 200 paths against the ledger at a
 * time; handing those out one by one through an async generator cost several promises per file.
 */
describe('runPoolOverBatches', () => {
  it('should run every item of every batch in order, within the concurrency', async () => {
    const batches = [[0, 1, 2], [], [3, 4, 5, 6, 7, 8, 9], [10]];
    async function* source(): AsyncGenerator<number[]> {
      for (const b of batches) yield b;
    }
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await runPoolOverBatches(source(), 2, async (i) => {
      started.push(i);
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    });
    expect(started).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(peak).toBe(2); // without sizes, one item to a slot
  });

  it('should pull the next batch only once the last one is all handed out', async () => {
    let pulled = 0;
    let startedAtPull = -1;
    let started = 0;
    async function* source(): AsyncGenerator<number[]> {
      for (let b = 0; b < 3; b++) {
        pulled++;
        if (b === 1) startedAtPull = started;
        yield Array.from({ length: 10 }, (_, i) => b * 10 + i);
      }
    }
    await runPoolOverBatches(source(), 2, async () => {
      started++;
      await new Promise((r) => setImmediate(r));
    });
    expect(pulled).toBe(3);
    expect(startedAtPull).toBe(10);
  });

  it('should stop pulling and reject with the first failure', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<number[]> {
      for (let b = 0; b < 100; b++) {
        pulled++;
        yield [b * 2, b * 2 + 1];
      }
    }
    await expect(
      runPoolOverBatches(source(), 2, async (i) => {
        if (i === 3) throw new Error('ledger down');
        await new Promise((r) => setImmediate(r));
      }),
    ).rejects.toThrow('ledger down');
    expect(pulled).toBeLessThan(10);
  });
});

describe('runPool promises per item', () => {
  /** Promises created while the pool runs 400 items, 8 in flight, per item. */
  async function promisesPerItem(run: (worker: () => Promise<void>) => Promise<void>) {
    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++;
      },
    });
    // Workers that end in the order they started, each after a macrotask.
    const worker = () => new Promise<void>((r) => setImmediate(r));
    hook.enable();
    try {
      await run(worker);
    } finally {
      hook.disable();
    }
    return promises / 400;
  }
  const items = Array.from({ length: 400 }, (_, i) => i);

  it('should create a few promises per item, not one per item in flight', async () => {
    async function* one(): AsyncGenerator<number> {
      for (const i of items) yield i;
    }
    async function* batches(): AsyncGenerator<number[]> {
      for (let i = 0; i < items.length; i += 200) yield items.slice(i, i + 200);
    }
    // Promise.race over the 8 in flight made it ~20 per item (with the generator's own ~4-5).
    const single = await promisesPerItem((w) => runPool(one(), 4, w, { sizeOf: () => 1024 }));
    const batched = await promisesPerItem((w) =>
      runPoolOverBatches(batches(), 4, w, { sizeOf: () => 1024 }),
    );
    expect(single).toBeLessThan(10);
    // The worker's own promise, the pool's reaction to it, a wait for room (and its await).
    expect(batched).toBeLessThan(5);
  });
});
