import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Clock } from '../../../../src/common/clock.js';

export function bytesOf(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Yields `data` in pieces, size unknown to the consumer. */
export function streamOf(data: Buffer, piece = 64 * 1024): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  }
  return Readable.from(gen(), { objectMode: false });
}

/** A clock whose sleeps return at once but are recorded (the pacer's backoff and Retry-After). */
export function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(),
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
}

export const KiB = 1024;
