/**
 * Microsoft's quickXorHash (learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash),
 * written here from the published algorithm rather than borrowed from our connector, so the
 * emulator checks the connector's hashing instead of agreeing with it by construction.
 *
 * A 160-bit circular register; byte n of the input is XORed in at bit (n * 11) mod 160; at the
 * end the 64-bit little-endian length is XORed into the last 8 bytes; the result is base64.
 */
const WIDTH_BYTES = 20;
const SHIFT = 11;
/** The bit offset repeats every 160 bytes (160 * 11 = 11 * 160). */
const PERIOD = 160;
const AT_BYTE = new Uint8Array(PERIOD);
const AT_BIT = new Uint8Array(PERIOD);
for (let j = 0; j < PERIOD; j++) {
  const bit = (j * SHIFT) % (WIDTH_BYTES * 8);
  AT_BYTE[j] = bit >> 3;
  AT_BIT[j] = bit & 7;
}

/** Whole periods folded per pass through the aligned scratch buffer (160 KiB). */
const SCRATCH_PERIODS = 1024;

/**
 * XOR is linear, so the bytes at positions congruent modulo 160 can be folded together first
 * (`lanes`, 32 bits at a time over whole periods) and spread into the register once, at the end.
 */
export class QuickXor {
  private readonly lanes = new Uint8Array(PERIOD);
  private readonly lanes32 = new Uint32Array(this.lanes.buffer);
  private readonly scratch = new Uint8Array(PERIOD * SCRATCH_PERIODS);
  private readonly scratch32 = new Uint32Array(this.scratch.buffer);
  private length = 0;

  update(chunk: Uint8Array): void {
    const lanes = this.lanes;
    let i = 0;
    // Bytes up to the next period boundary, one by one.
    let j = this.length % PERIOD;
    while (j !== 0 && i < chunk.length) {
      lanes[j] ^= chunk[i++]!;
      if (++j === PERIOD) j = 0;
    }
    // Whole periods, 32 bits at a time through an aligned copy.
    const words = PERIOD / 4;
    while (chunk.length - i >= PERIOD) {
      const periods = Math.min(SCRATCH_PERIODS, Math.floor((chunk.length - i) / PERIOD));
      const bytes = periods * PERIOD;
      this.scratch.set(chunk.subarray(i, i + bytes));
      const src = this.scratch32;
      const acc = this.lanes32;
      for (let p = 0; p < periods; p++) {
        const base = p * words;
        for (let w = 0; w < words; w++) acc[w] = acc[w]! ^ src[base + w]!;
      }
      i += bytes;
    }
    // The rest, one by one.
    for (j = 0; i < chunk.length; i++, j++) lanes[j] ^= chunk[i]!;
    this.length += chunk.length;
  }

  /** The hash as Graph reports it (base64). */
  digest(): string {
    const cells = new Uint8Array(WIDTH_BYTES);
    for (let j = 0; j < PERIOD; j++) {
      const v = this.lanes[j]! << AT_BIT[j]!;
      const at = AT_BYTE[j]!;
      cells[at] ^= v & 0xff;
      cells[at === WIDTH_BYTES - 1 ? 0 : at + 1] ^= v >> 8;
    }
    const out = Buffer.from(cells);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(this.length));
    for (let i = 0; i < 8; i++) out[WIDTH_BYTES - 8 + i] = out[WIDTH_BYTES - 8 + i]! ^ len[i]!;
    return out.toString('base64');
  }
}
