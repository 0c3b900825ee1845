/**
 * The hashing worker thread (started by HashWorkerPool, off-thread-hashing.ts): computes the
 * digests of large files away from the main JavaScript thread.
 *
 * Each stream the main thread opens shares a SharedArrayBuffer of SLOTS slots with it. The main
 * thread copies the bytes it passes on to the target into a free slot and posts `data` (slot,
 * length); this thread feeds the slot to every digest of the stream, in order, and posts `freed`
 * so the slot can be filled again. Nothing is transferred or allocated per chunk: at most SLOTS
 * slots of a stream are in flight, which is the bound on memory and the backpressure.
 */
import { parentPort } from 'node:worker_threads';
import { createDigest } from './digests.js';
import type { Digest, HashKind, HashSet } from './hash-kinds.js';
import type { FromHashWorker, ToHashWorker } from './hash-worker.protocol.js';

interface OpenStream {
  digests: Array<[HashKind, Digest]>;
  ring: SharedArrayBuffer;
  slotBytes: number;
}

const port = parentPort;
if (!port) throw new Error('hash-worker.js runs as a worker thread only');

const streams = new Map<number, OpenStream>();

function send(m: FromHashWorker): void {
  port!.postMessage(m);
}

port.on('message', (m: ToHashWorker) => {
  try {
    switch (m.t) {
      case 'open':
        streams.set(m.id, {
          digests: m.kinds.map((k) => [k, createDigest(k)]),
          ring: m.ring,
          slotBytes: m.slotBytes,
        });
        return;
      case 'data': {
        const s = streams.get(m.id);
        if (!s) return;
        const bytes = Buffer.from(s.ring, m.slot * s.slotBytes, m.length);
        for (const [, d] of s.digests) d.update(bytes);
        send({ t: 'freed', id: m.id, slot: m.slot });
        return;
      }
      case 'end': {
        const s = streams.get(m.id);
        if (!s) return;
        streams.delete(m.id);
        const hashes: HashSet = {};
        for (const [k, d] of s.digests) hashes[k] = d.digest();
        send({ t: 'done', id: m.id, hashes });
        return;
      }
      case 'drop':
        streams.delete(m.id);
        return;
    }
  } catch (e) {
    streams.delete(m.id);
    send({ t: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) });
  }
});
