import { createHash, type Hash } from 'node:crypto';
import type { Digest } from './hash-kinds.js';

/** Dropbox hashes content in 4 MiB blocks (protocols/dropbox.md, "content_hash"). */
export const DROPBOX_BLOCK_SIZE = 4 * 1024 * 1024;

/**
 * Dropbox `content_hash`: SHA-256 over the concatenated SHA-256 digests of each 4 MiB block,
 * lowercase hex. An empty file hashes no blocks: SHA-256 of the empty string.
 */
export class DropboxContentHash implements Digest {
  private readonly overall = createHash('sha256');
  private block: Hash = createHash('sha256');
  private blockFill = 0;

  update(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const take = Math.min(DROPBOX_BLOCK_SIZE - this.blockFill, chunk.length - pos);
      this.block.update(chunk.subarray(pos, pos + take));
      this.blockFill += take;
      pos += take;
      if (this.blockFill === DROPBOX_BLOCK_SIZE) this.flushBlock();
    }
  }

  digest(): string {
    if (this.blockFill > 0) this.flushBlock();
    return this.overall.digest('hex');
  }

  private flushBlock(): void {
    this.overall.update(this.block.digest());
    this.block = createHash('sha256');
    this.blockFill = 0;
  }
}
