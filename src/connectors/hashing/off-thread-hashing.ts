import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashKind, HashSet } from './hash-kinds.js';
import type { FromHashWorker, ToHashWorker } from './hash-worker.protocol.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Where the digests of a file are computed. Mutable only for the benchmark's comparison rows
 * (bench/support/hashing-variant.ts, loaded with `node --import` into the engine) and for unit
 * tests; the engine never changes it.
 */
export const hashingSettings = {
  /**
   * Files the source lists at this size or more are hashed on a worker thread. Below it the
   * round trip to the worker (two messages per 256 KiB, one per file to open and end) is not
   * worth it: a 4 KiB file hashes in a few microseconds on the main thread.
   */
  offThreadFromBytes: 8 * MiB,
  /**
   * Hashing worker threads at most. Each costs ~10 MiB of resident memory while it lives, and
   * one computes SHA-256 plus a Dropbox content hash at ~850 MB/s, or Drive's three checksums at
   * ~400 MB/s, on the 2-core EPYC of docs/benchmarks.md. A second one only helps where a third
   * core can run it beside the main thread; on two cores it would compete with the copy itself.
   */
  workers: Math.max(1, Math.min(2, availableParallelism() - 1)),
  /**
   * Benchmark only: 'ignore' makes the transfer core compute and compare none of the kinds the
   * source reports (the "source check off" row of docs/benchmarks.md).
   */
  sourceHashes: 'compare' as 'compare' | 'ignore',
};

/** Bytes per slot of a stream's ring: one message to the worker per slot filled. */
export const SLOT_BYTES = 256 * KiB;
/** Slots per stream: at most this many are in flight, so 1 MiB of copies per large file. */
export const SLOTS = 4;
/** A worker with no open stream for this long exits (its memory goes back to the system). */
const IDLE_EXIT_MS = 30_000;

/** The hashing worker thread failed (a bug, or the process is out of memory). */
export class HashWorkerError extends Error {}

/**
 * The digests of one stream, computed on a hashing worker. `update` copies the chunk into the
 * stream's shared ring (one memcpy on the main thread) and returns at once while a slot is free;
 * when all SLOTS are in flight it returns a promise that resolves once the worker freed one (the
 * caller holds the chunk until then: backpressure). `finish` resolves with the digests.
 */
export class OffThreadDigests {
  private readonly view: Buffer;
  private readonly free: number[] = [];
  private slot = -1;
  private fill = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private settled = false;
  private resolveResult!: (h: HashSet) => void;
  private rejectResult!: (e: Error) => void;
  private readonly result = new Promise<HashSet>((res, rej) => {
    this.resolveResult = res;
    this.rejectResult = rej;
  });

  /** @internal Made by HashWorkerPool.open. */
  constructor(
    private readonly id: number,
    private readonly post: (m: ToHashWorker) => void,
    private readonly closed: (id: number) => void,
    kinds: HashKind[],
  ) {
    const ring = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
    this.view = Buffer.from(ring);
    for (let s = SLOTS - 1; s >= 0; s--) this.free.push(s);
    // A result nobody awaits (the stream was destroyed) must not be an unhandled rejection.
    this.result.catch(() => undefined);
    post({ t: 'open', id, kinds, ring, slotBytes: SLOT_BYTES });
  }

  update(chunk: Buffer): Promise<void> | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.failure) return Promise.reject(this.failure);
      if (this.slot < 0) {
        const s = this.free.pop();
        if (s === undefined) {
          const rest = chunk.subarray(pos);
          return new Promise<void>((resolve) => (this.wake = resolve)).then(() =>
            this.update(rest),
          );
        }
        this.slot = s;
        this.fill = 0;
      }
      const n = Math.min(SLOT_BYTES - this.fill, chunk.length - pos);
      chunk.copy(this.view, this.slot * SLOT_BYTES + this.fill, pos, pos + n);
      this.fill += n;
      pos += n;
      if (this.fill === SLOT_BYTES) this.send();
    }
    return undefined;
  }

  finish(): Promise<HashSet> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slot >= 0 && this.fill > 0) this.send();
    this.post({ t: 'end', id: this.id });
    return this.result;
  }

  /** The stream was abandoned: the worker forgets it. */
  abort(): void {
    if (this.settled) return;
    this.post({ t: 'drop', id: this.id });
    this.fail(new HashWorkerError('hashing abandoned'));
  }

  /** @internal From the worker. */
  receive(m: FromHashWorker): void {
    switch (m.t) {
      case 'freed': {
        this.free.push(m.slot);
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
        return;
      }
      case 'done':
        this.settled = true;
        this.closed(this.id);
        this.resolveResult(m.hashes);
        return;
      case 'failed':
        this.fail(new HashWorkerError(`hashing failed: ${m.message}`));
        return;
    }
  }

  /** @internal The worker failed or the stream was abandoned. */
  fail(e: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = e;
    this.closed(this.id);
    this.rejectResult(e);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private send(): void {
    this.post({ t: 'data', id: this.id, slot: this.slot, length: this.fill });
    this.slot = -1;
    this.fill = 0;
  }
}

interface PoolWorker {
  worker: Worker;
  streams: Map<number, OffThreadDigests>;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Up to `size` hashing worker threads, started on first use. A stream goes to the worker with
 * the fewest open streams (a new one while fewer than `size` run); a worker is referenced (keeps
 * the process alive) only while it has streams, and exits after IDLE_EXIT_MS without any.
 */
export class HashWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;

  constructor(
    private readonly workerUrl: URL,
    private readonly size: () => number,
  ) {}

  open(kinds: HashKind[]): OffThreadDigests {
    const pw = this.pick();
    if (pw.idleTimer) clearTimeout(pw.idleTimer);
    pw.idleTimer = undefined;
    if (pw.streams.size === 0) pw.worker.ref();
    const id = this.nextId++;
    const d = new OffThreadDigests(
      id,
      (m) => pw.worker.postMessage(m),
      (done) => this.closed(pw, done),
      kinds,
    );
    pw.streams.set(id, d);
    return d;
  }

  /** Ends every worker (tests). */
  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(
      all.map((pw) => {
        if (pw.idleTimer) clearTimeout(pw.idleTimer);
        return pw.worker.terminate();
      }),
    );
  }

  private pick(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const pw of this.workers) if (!best || pw.streams.size < best.streams.size) best = pw;
    if (best && (best.streams.size === 0 || this.workers.length >= this.size())) return best;
    return this.start();
  }

  private start(): PoolWorker {
    // Small heaps: the worker holds digest states and the messages in flight, nothing else.
    const worker = new Worker(this.workerUrl, {
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    const pw: PoolWorker = { worker, streams: new Map() };
    worker.unref();
    worker.on('message', (m: FromHashWorker) => pw.streams.get(m.id)?.receive(m));
    const lost = (why: string) => {
      const i = this.workers.indexOf(pw);
      if (i >= 0) this.workers.splice(i, 1);
      if (pw.idleTimer) clearTimeout(pw.idleTimer);
      for (const d of [...pw.streams.values()]) d.fail(new HashWorkerError(why));
      pw.streams.clear();
    };
    worker.on('error', (e) => lost(`the hashing worker failed: ${e.message}`));
    worker.on('exit', (code) => lost(`the hashing worker exited (code ${code})`));
    this.workers.push(pw);
    return pw;
  }

  private closed(pw: PoolWorker, id: number): void {
    if (!pw.streams.delete(id) || pw.streams.size > 0) return;
    pw.worker.unref();
    pw.idleTimer = setTimeout(() => {
      const i = this.workers.indexOf(pw);
      if (pw.streams.size > 0 || i < 0) return;
      this.workers.splice(i, 1);
      void pw.worker.terminate();
    }, IDLE_EXIT_MS);
    pw.idleTimer.unref();
  }
}

let shared: HashWorkerPool | null | undefined;

/**
 * The process's hashing pool, or undefined when the compiled worker is not there (the sources
 * run untranspiled under Jest: large files are then hashed on the main thread, same digests).
 */
export function sharedHashWorkerPool(): HashWorkerPool | undefined {
  if (shared === undefined) {
    const url = new URL('./hash-worker.js', import.meta.url);
    shared = existsSync(fileURLToPath(url))
      ? new HashWorkerPool(url, () => hashingSettings.workers)
      : null;
  }
  return shared ?? undefined;
}
