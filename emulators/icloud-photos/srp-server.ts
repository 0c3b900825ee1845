import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The server half of Apple's sign-in SRP (GSA: SRP-6a over the RFC 5054 2048-bit group with
 * SHA-256, the password stretched by PBKDF2 as the `s2k` / `s2k_fo` protocols say), kept in the
 * emulator so it checks the connector's client instead of sharing its code.
 */
export type SrpProtocol = 's2k' | 's2k_fo';

/** RFC 5054, appendix A, the 2048-bit group; g = 2. */
const N = BigInt(
  '0xAC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD5' +
    '2312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F9' +
    '7993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9' +
    '078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E73' +
    '03CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FC' +
    'D68EF20FA7111F9E4AFF73',
);
const G = 2n;
const N_LEN = 256;

const H = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
/** Minimal big-endian bytes of a number. */
const bytes = (n: bigint): Buffer => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};
/** The same, left-padded to the group's length. */
const padded = (n: bigint): Buffer => {
  const b = bytes(n);
  return b.length >= N_LEN ? b : Buffer.concat([Buffer.alloc(N_LEN - b.length), b]);
};
const num = (b: Buffer): bigint => (b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`));

function powMod(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = base % N;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % N;
    b = (b * b) % N;
  }
  return r;
}

const k = num(H(bytes(N), padded(G)));

/** v = g^x with x = H(salt | H(":" | p)), p = PBKDF2-SHA256(H(password) [hex for s2k_fo]). */
export function computeVerifier(
  password: string,
  salt: Buffer,
  iterations: number,
  protocol: SrpProtocol,
): bigint {
  const digest = H(Buffer.from(password, 'utf8'));
  const input = protocol === 's2k_fo' ? Buffer.from(digest.toString('hex'), 'ascii') : digest;
  const p = pbkdf2Sync(input, salt, iterations, 32, 'sha256');
  return powMod(G, num(H(salt, H(Buffer.from(':'), p))));
}

export class SrpServer {
  readonly publicB: Buffer;
  private readonly b: bigint;
  private readonly B: bigint;

  constructor(
    private readonly verifier: bigint,
    secret: Buffer = randomBytes(32),
  ) {
    this.b = num(secret);
    this.B = (k * verifier + powMod(G, this.b)) % N;
    this.publicB = bytes(this.B);
  }

  /** M2 when the client's M1 proves the password, undefined otherwise. */
  verify(args: {
    accountName: string;
    salt: Buffer;
    clientA: Buffer;
    m1: Buffer;
  }): Buffer | undefined {
    const A = num(args.clientA);
    if (A % N === 0n) return undefined;
    const u = num(H(padded(A), padded(this.B)));
    const S = powMod((A * powMod(this.verifier, u)) % N, this.b);
    const K = H(bytes(S));
    const hN = H(bytes(N));
    const hG = H(padded(G));
    const x = Buffer.from(hN.map((byte, i) => byte ^ hG[i]!));
    const m1 = H(
      x,
      H(Buffer.from(args.accountName, 'utf8')),
      args.salt,
      bytes(A),
      bytes(this.B),
      K,
    );
    if (!m1.equals(args.m1)) return undefined;
    return H(bytes(A), m1, K);
  }
}
