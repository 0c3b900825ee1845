import { createHash } from 'node:crypto';
import { DropboxContentHash } from './dropbox-content-hash.js';
import type { Digest, DigestFactory, HashKind } from './hash-kinds.js';
import { QuickXorHash } from './quickxor-hash.js';

function nodeDigest(algorithm: string): DigestFactory {
  return () => {
    const h = createHash(algorithm);
    return { update: (chunk) => void h.update(chunk), digest: () => h.digest('hex') };
  };
}

/** Every hash kind the engine can compute in flight. Kinds missing here cannot be verified. */
const DIGESTS: Partial<Record<HashKind, DigestFactory>> = {
  md5: nodeDigest('md5'),
  sha1: nodeDigest('sha1'),
  sha256: nodeDigest('sha256'),
  dropbox: () => new DropboxContentHash(),
  quickXor: () => new QuickXorHash(),
};

export function canComputeHash(kind: HashKind): boolean {
  return DIGESTS[kind] !== undefined;
}

export function createDigest(kind: HashKind): Digest {
  const factory = DIGESTS[kind];
  if (!factory) throw new Error(`no in-flight digest for hash kind '${kind}'`);
  return factory();
}
