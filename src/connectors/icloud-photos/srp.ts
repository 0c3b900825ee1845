import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * SRP-6a as Apple's idmsa ("GSA" flavour) uses it, on Node's crypto and BigInt. No maintained npm
 * package fits: `@foxt/js-srp` (0.0.3-patch2, client only) is the only one with the GSA variant,
 * and the emulator needs the server half too, so both halves live here and share the math.
 *
 * Variant (what differs from textbook RFC 5054):
 * - group: RFC 5054 2048-bit prime, g = 2; H = SHA-256 everywhere;
 * - the password is first stretched: p = PBKDF2-HMAC-SHA256(P', salt, iterations, 32) with
 *   P' = SHA-256(password) raw (`s2k`) or its lowercase hex string (`s2k_fo`, older passwords);
 * - x = H(salt || H(":" || p)): the username is NOT in x, the colon stays;
 * - k = H(N || PAD(g)), u = H(PAD(A) || PAD(B)), K = H(S) (S unpadded);
 * - M1 = H(H(N) xor H(PAD(g)) || H(accountName) || salt || A || B || K) with A, B unpadded;
 *   M2 = H(A || M1 || K).
 */
export type SrpProtocol = 's2k' | 's2k_fo';

const N_HEX =
  'AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310D' +
  'CD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF74' +
  '7359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D' +
  '5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6' +
  '94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73';

export const SRP_N = BigInt('0x' + N_HEX);
export const SRP_G = 2n;
const N_BYTES = 256;

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function bigToBuf(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

export function bufToBig(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'));
}

function pad(n: bigint): Buffer {
  const b = bigToBuf(n);
  return b.length >= N_BYTES ? b : Buffer.concat([Buffer.alloc(N_BYTES - b.length), b]);
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = ((base % mod) + mod) % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    e >>= 1n;
    b = (b * b) % mod;
  }
  return result;
}

const K_MULT = bufToBig(sha256(bigToBuf(SRP_N), pad(SRP_G)));

/** p: the PBKDF2-stretched password key for a protocol. */
export function derivePasswordKey(
  password: string,
  salt: Buffer,
  iterations: number,
  protocol: SrpProtocol,
): Buffer {
  const digest = sha256(Buffer.from(password, 'utf8'));
  const pre = protocol === 's2k_fo' ? Buffer.from(digest.toString('hex'), 'ascii') : digest;
  return pbkdf2Sync(pre, salt, iterations, 32, 'sha256');
}

function computeX(salt: Buffer, passwordKey: Buffer): bigint {
  return bufToBig(sha256(salt, sha256(Buffer.from(':'), passwordKey)));
}

function computeU(A: bigint, B: bigint): bigint {
  return bufToBig(sha256(pad(A), pad(B)));
}

function computeM1(accountName: string, salt: Buffer, A: bigint, B: bigint, K: Buffer): Buffer {
  const hN = sha256(bigToBuf(SRP_N));
  const hg = sha256(pad(SRP_G));
  const xor = Buffer.alloc(hN.length);
  for (let i = 0; i < hN.length; i++) xor[i] = hN[i]! ^ hg[i]!;
  return sha256(xor, sha256(Buffer.from(accountName, 'utf8')), salt, bigToBuf(A), bigToBuf(B), K);
}

function computeM2(A: bigint, m1: Buffer, K: Buffer): Buffer {
  return sha256(bigToBuf(A), m1, K);
}

export class SrpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrpError';
  }
}

/** Client half: create, send `publicA`, then `respond` to the server's challenge. */
export class SrpClient {
  readonly publicA: Buffer;
  private readonly a: bigint;
  private readonly A: bigint;

  constructor(secret: Buffer = randomBytes(32)) {
    this.a = bufToBig(secret);
    this.A = modPow(SRP_G, this.a, SRP_N);
    this.publicA = bigToBuf(this.A);
  }

  /** Computes M1 (proof to send) and M2 (what the server's proof must be). */
  respond(args: {
    accountName: string;
    password: string;
    salt: Buffer;
    iterations: number;
    protocol: SrpProtocol;
    serverB: Buffer;
  }): { m1: Buffer; m2: Buffer; key: Buffer } {
    const B = bufToBig(args.serverB);
    if (B % SRP_N === 0n) throw new SrpError('server public value B is 0 mod N');
    const u = computeU(this.A, B);
    if (u === 0n) throw new SrpError('SRP scrambler u is 0');
    const x = computeX(
      args.salt,
      derivePasswordKey(args.password, args.salt, args.iterations, args.protocol),
    );
    const gx = modPow(SRP_G, x, SRP_N);
    const base = (((B - K_MULT * gx) % SRP_N) + SRP_N) % SRP_N;
    const S = modPow(base, this.a + u * x, SRP_N);
    const key = sha256(bigToBuf(S));
    const m1 = computeM1(args.accountName, args.salt, this.A, B, key);
    return { m1, m2: computeM2(this.A, m1, key), key };
  }
}

/** The verifier a server stores instead of the password: v = g^x mod N. */
export function computeVerifier(
  password: string,
  salt: Buffer,
  iterations: number,
  protocol: SrpProtocol,
): bigint {
  return modPow(
    SRP_G,
    computeX(salt, derivePasswordKey(password, salt, iterations, protocol)),
    SRP_N,
  );
}

/** Server half (used by the emulator): publish `publicB`, then `verify` the client's M1. */
export class SrpServer {
  readonly publicB: Buffer;
  private readonly b: bigint;
  private readonly B: bigint;

  constructor(
    private readonly verifier: bigint,
    secret: Buffer = randomBytes(32),
  ) {
    this.b = bufToBig(secret);
    this.B = (K_MULT * verifier + modPow(SRP_G, this.b, SRP_N)) % SRP_N;
    this.publicB = bigToBuf(this.B);
  }

  /** Returns M2 when M1 proves knowledge of the password, undefined otherwise. */
  verify(args: {
    accountName: string;
    salt: Buffer;
    clientA: Buffer;
    m1: Buffer;
  }): Buffer | undefined {
    const A = bufToBig(args.clientA);
    if (A % SRP_N === 0n) return undefined;
    const u = computeU(A, this.B);
    const S = modPow((A * modPow(this.verifier, u, SRP_N)) % SRP_N, this.b, SRP_N);
    const key = sha256(bigToBuf(S));
    const expected = computeM1(args.accountName, args.salt, A, this.B, key);
    if (expected.length !== args.m1.length || !expected.equals(args.m1)) return undefined;
    return computeM2(A, expected, key);
  }
}
