import type { Digest } from './hash-kinds.js';

/** QuickXorHash state width: 160 bits (protocols/onedrive.md, section 3). */
const WIDTH_BITS = 160;
const STATE_BYTES = WIDTH_BITS / 8;
/** Each input byte lands 11 bits further on, so byte i and byte i + 160 share a bit position. */
const SHIFT = 11;
/** The total length, little-endian, is XORed into the last 8 bytes of the state. */
const LENGTH_OFFSET = STATE_BYTES - 8;

/**
 * OneDrive's `quickXorHash`, base64 (28 characters). Streaming: state is 160 bytes whatever the
 * input length.
 *
 * Byte i is XORed into the 160-bit state at bit (11 * i) mod 160, wrapping past bit 159. Because
 * 11 * 160 ≡ 0 (mod 160), every byte whose index has the same remainder mod 160 lands at the same
 * bit offset: `update` only folds bytes into 160 lanes (one XOR per byte, the hot loop), and
 * `digest` shifts each lane into place once.
 */
export class QuickXorHash implements Digest {
  private readonly lanes = new Uint8Array(WIDTH_BITS);
  private lane = 0;
  private length = 0;

  update(chunk: Buffer): void {
    const lanes = this.lanes;
    let lane = this.lane;
    for (let k = 0; k < chunk.length; k++) {
      lanes[lane] ^= chunk[k];
      if (++lane === WIDTH_BITS) lane = 0;
    }
    this.lane = lane;
    this.length += chunk.length;
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
