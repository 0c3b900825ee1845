import { Transform, type TransformCallback } from 'node:stream';
import { createDigest } from './digests.js';
import type { Digest, HashKind, HashSet } from './hash-kinds.js';
import {
  hashingSettings,
  sharedHashWorkerPool,
  type HashWorkerPool,
  type OffThreadDigests,
} from './off-thread-hashing.js';

export interface HashingOptions {
  /**
   * The size the source listed. At `hashingSettings.offThreadFromBytes` or more the digests are
   * computed on a hashing worker thread (the main thread only copies each chunk once), so a
   * large file's hashing does not hold up the copy, the API or other files.
   */
  expectedSize?: number;
  /** The pool to use (tests); by default the process's own. */
  pool?: HashWorkerPool;
}

/**
 * A pass-through stream that counts bytes and computes the given hash kinds as they flow. It never
 * holds more than the chunk in hand (plus, off the main thread, at most SLOTS x SLOT_BYTES of
 * copies the worker has not hashed yet); backpressure passes through untouched.
 */
export class HashingTransform extends Transform {
  private readonly digests: Array<[HashKind, Digest]> = [];
  private readonly offThread: OffThreadDigests | undefined;
  private count = 0;
  private result: HashSet | undefined;

  /** `onBytes` is told the size of each chunk as it passes (progress), without a 'data' listener. */
  constructor(
    kinds: Iterable<HashKind>,
    private readonly onBytes?: (n: number) => void,
    opts: HashingOptions = {},
  ) {
    super();
    const unique = [...new Set(kinds)];
    // SHA-256 alone (a source that reports no hash, a read-back) stays here: the worker's ~10
    // MiB took an S3 large-file copy from a local folder to 208-210 MiB, over the 200 MiB
    // budget, to save half a second of main-thread CPU per GiB (docs/benchmarks.md).
    const large =
      unique.length > 1 &&
      opts.expectedSize !== undefined &&
      opts.expectedSize >= hashingSettings.offThreadFromBytes;
    const pool = large ? (opts.pool ?? sharedHashWorkerPool()) : undefined;
    if (pool) this.offThread = pool.open(unique);
    else this.digests = unique.map((k) => [k, createDigest(k)]);
  }

  get bytes(): number {
    return this.count;
  }

  /** The digests; only available once the stream has ended. */
  get hashes(): HashSet {
    if (!this.result) throw new Error('hashes are only known once the stream has ended');
    return this.result;
  }

  get isFinished(): boolean {
    return this.result !== undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    this.onBytes?.(chunk.length);
    if (this.offThread) {
      const wait = this.offThread.update(chunk);
      if (wait) wait.then(() => cb(null, chunk), cb);
      else cb(null, chunk);
      return;
    }
    for (const [, d] of this.digests) d.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.offThread) {
      this.offThread.finish().then((h) => {
        this.result = h;
        cb();
      }, cb);
      return;
    }
    const out: HashSet = {};
    for (const [k, d] of this.digests) out[k] = d.digest();
    this.result = out;
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (!this.result) this.offThread?.abort();
    cb(err);
  }
}
