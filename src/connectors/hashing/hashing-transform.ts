import { Transform, type TransformCallback } from 'node:stream';
import { createDigest } from './digests.js';
import type { Digest, HashKind, HashSet } from './hash-kinds.js';

/**
 * A pass-through stream that counts bytes and computes the given hash kinds as they flow. It never
 * holds more than the chunk in hand; backpressure passes through untouched.
 */
export class HashingTransform extends Transform {
  private readonly digests: Array<[HashKind, Digest]>;
  private count = 0;
  private result: HashSet | undefined;

  /** `onBytes` is told the size of each chunk as it passes (progress), without a 'data' listener. */
  constructor(
    kinds: Iterable<HashKind>,
    private readonly onBytes?: (n: number) => void,
  ) {
    super();
    this.digests = [...new Set(kinds)].map((k) => [k, createDigest(k)]);
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
    for (const [, d] of this.digests) d.update(chunk);
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const out: HashSet = {};
    for (const [k, d] of this.digests) out[k] = d.digest();
    this.result = out;
    cb();
  }
}
