import type { Digest } from './hash-kinds.js';

/** QuickXorHash state width: 160 bits (protocols/onedrive.md, section 3). */
const WIDTH_BITS = 160;
const STATE_BYTES = WIDTH_BITS / 8;
/** Each input byte lands 11 bits further on, so byte i and byte i + 160 share a bit position. */
const SHIFT = 11;
/** The total length, little-endian, is XORed into the last 8 bytes of the state. */
const LENGTH_OFFSET = STATE_BYTES - 8;
const LANE_WORDS = WIDTH_BITS / 4;
/** Unaligned input is folded through this shared block (update is synchronous: no sharing). */
const SCRATCH_BLOCKS = 256;
const scratchWords = new Uint32Array(SCRATCH_BLOCKS * LANE_WORDS);
const scratchBytes = new Uint8Array(scratchWords.buffer);

/** XORs each 40-word block of `input` into `lanes`. */
function xorWords(lanes: Uint32Array, input: Uint32Array): void {
  for (let w = 0; w < input.length; w += LANE_WORDS) {
    for (let j = 0; j < LANE_WORDS; j++) lanes[j] ^= input[w + j];
  }
}

/**
 * OneDrive's `quickXorHash`, base64 (28 characters). Streaming: state is 160 bytes whatever the
 * input length.
 *
 * Byte i is XORed into the 160-bit state at bit (11 * i) mod 160, wrapping past bit 159. Because
 * 11 * 160 ≡ 0 (mod 160), every byte whose index has the same remainder mod 160 lands at the same
 * bit offset: `update` only folds bytes into 160 lanes (one XOR per byte, the hot loop), and
 * `digest` shifts each lane into place once. Whole 160-byte cycles are folded 4 bytes at a time
 * (about 4x faster than a byte loop, which ran at ~130 MB/s: a third of the engine's CPU on a
 * OneDrive upload, where the connector and the engine both hash).
 */
export class QuickXorHash implements Digest {
  private readonly lanes = new Uint8Array(WIDTH_BITS);
  /** The same 160 lanes as 40 words: whole 160-byte blocks are folded a word at a time. */
  private readonly words = new Uint32Array(this.lanes.buffer);
  private lane = 0;
  private length = 0;

  update(chunk: Buffer): void {
    const lanes = this.lanes;
    const n = chunk.length;
    let lane = this.lane;
    let k = 0;
    // Byte by byte up to the start of the next 160-lane cycle...
    while (lane !== 0 && k < n) {
      lanes[lane] ^= chunk[k++];
      if (++lane === WIDTH_BITS) lane = 0;
    }
    // ...then whole cycles 4 bytes at a time (XOR is bytewise: the word order does not matter,
    // as long as both views share the machine's byte order, which views of memory do)...
    const blocks = Math.floor((n - k) / WIDTH_BITS);
    if (blocks > 0) {
      this.foldBlocks(chunk, k, blocks);
      k += blocks * WIDTH_BITS;
    }
    // ...and the rest byte by byte.
    for (; k < n; k++) {
      lanes[lane] ^= chunk[k];
      if (++lane === WIDTH_BITS) lane = 0;
    }
    this.lane = lane;
    this.length += n;
  }

  private foldBlocks(chunk: Buffer, from: number, blocks: number): void {
    const at = chunk.byteOffset + from;
    if ((at & 3) === 0) {
      xorWords(this.words, new Uint32Array(chunk.buffer, at, blocks * LANE_WORDS));
      return;
    }
    // A view of words must start 4-aligned: copy unaligned input through a scratch block.
    for (let b = 0; b < blocks; b += SCRATCH_BLOCKS) {
      const count = Math.min(SCRATCH_BLOCKS, blocks - b);
      const start = from + b * WIDTH_BITS;
      scratchBytes.set(chunk.subarray(start, start + count * WIDTH_BITS));
      xorWords(this.words, scratchWords.subarray(0, count * LANE_WORDS));
    }
  }

  digest(): string {
    return Buffer.from(this.digestBytes()).toString('base64');
  }

  /** The raw 20-byte value. */
  digestBytes(): Uint8Array {
    const state = new Uint8Array(STATE_BYTES);
    for (let i = 0; i < WIDTH_BITS; i++) {
      const b = this.lanes[i];
      if (b === 0) continue;
      const bit = (SHIFT * i) % WIDTH_BITS;
      const j = bit >> 3;
      const r = bit & 7;
      state[j] ^= (b << r) & 0xff;
      if (r > 0) state[(j + 1) % STATE_BYTES] ^= b >> (8 - r);
    }
    // Lengths past 2^53 cannot occur in a JS number; BigInt keeps the 64-bit layout exact.
    let len = BigInt(this.length);
    for (let k = 0; k < 8; k++) {
      state[LENGTH_OFFSET + k] ^= Number(len & 0xffn);
      len >>= 8n;
    }
    return state;
  }
}
