import { randomBytes } from 'node:crypto';
import { BullMqRunQueue } from '../../../src/runs/bullmq-run-queue.js';

describe('BullMqRunQueue when BullMQ gives a run up', () => {
  it('should report the run so it is not left running forever', async () => {
    const gaveUp: Array<{ runId: string; reason: string }> = [];
    let resolveReported!: () => void;
    const reported = new Promise<void>((r) => (resolveReported = r));
    const sut = new BullMqRunQueue(
      {
        redisUrl: 'redis://127.0.0.1:6379',
        queuePrefix: `cbe-test-${randomBytes(4).toString('hex')}`,
        lockDurationMs: 2000,
      },
      async () => {
        throw new Error('worker lost its database connection');
      },
      1,
      async (runId, reason) => {
        gaveUp.push({ runId, reason });
        resolveReported();
      },
    );
    try {
      sut.enqueue('run-1', 'task-1');
      await reported;
      expect(gaveUp).toEqual([{ runId: 'run-1', reason: 'worker lost its database connection' }]);
    } finally {
      await sut.close();
    }
  });
});
