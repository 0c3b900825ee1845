import { runPool } from '../../../src/backup/transfer/pool.js';

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
