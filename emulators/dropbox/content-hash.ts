import { createHash, type Hash } from 'node:crypto';

/**
 * Dropbox's `content_hash` (dropbox.com/developers/reference/content-hash): SHA-256 of the
 * concatenated SHA-256 digests of each 4 MiB block. Kept in the emulator so it checks the
 * connector's hashing instead of sharing its code.
 */
const BLOCK = 4 * 1024 * 1024;

export class ContentHash {
  private readonly whole = createHash('sha256');
  private block: Hash = createHash('sha256');
  private inBlock = 0;

  update(chunk: Buffer): void {
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(BLOCK - this.inBlock, chunk.length - at);
      this.block.update(chunk.subarray(at, at + n));
      this.inBlock += n;
      at += n;
      if (this.inBlock === BLOCK) this.endBlock();
    }
  }

  digest(): string {
    if (this.inBlock > 0) this.endBlock();
    return this.whole.digest('hex');
  }

  private endBlock(): void {
    this.whole.update(this.block.digest());
    this.block = createHash('sha256');
    this.inBlock = 0;
  }
}
