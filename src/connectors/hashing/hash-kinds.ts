/**
 * Hash kinds a provider may report. Values in a HashSet are lowercase hex, except `quickXor`
 * which OneDrive reports as base64 and is kept that way.
 */
export type HashKind = 'md5' | 'sha1' | 'sha256' | 'quickXor' | 'dropbox';

export const HASH_KINDS: readonly HashKind[] = ['md5', 'sha1', 'sha256', 'quickXor', 'dropbox'];

export type HashSet = Partial<Record<HashKind, string>>;

/** Streaming digest: fed chunk by chunk, never holding the whole input. */
export interface Digest {
  update(chunk: Buffer): void;
  /** Final value in the HashSet encoding of its kind. */
  digest(): string;
}

export type DigestFactory = () => Digest;

/** Case-insensitive comparison for hex kinds; exact for base64 ones. */
export function sameHash(kind: HashKind, a: string, b: string): boolean {
  return kind === 'quickXor' ? a === b : a.toLowerCase() === b.toLowerCase();
}

/**
 * Compares two hash sets on the kinds both carry. Returns the first kind that differs, or
 * undefined when every common kind matches (or none is common).
 */
export function firstHashMismatch(a: HashSet, b: HashSet): HashKind | undefined {
  for (const kind of HASH_KINDS) {
    const x = a[kind];
    const y = b[kind];
    if (x !== undefined && y !== undefined && !sameHash(kind, x, y)) return kind;
  }
  return undefined;
}

export function commonHashKinds(a: HashSet, b: HashSet): HashKind[] {
  return HASH_KINDS.filter((k) => a[k] !== undefined && b[k] !== undefined);
}
