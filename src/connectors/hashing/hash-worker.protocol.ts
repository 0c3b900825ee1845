import type { HashKind, HashSet } from './hash-kinds.js';

/** Main thread -> hashing worker (hash-worker.ts). */
export type ToHashWorker =
  | { t: 'open'; id: number; kinds: HashKind[]; ring: SharedArrayBuffer; slotBytes: number }
  /** Slot `slot` of the stream's ring holds its next `length` bytes. */
  | { t: 'data'; id: number; slot: number; length: number }
  /** No more bytes: answer with the digests. */
  | { t: 'end'; id: number }
  /** The stream was abandoned: forget it. */
  | { t: 'drop'; id: number };

/** Hashing worker -> main thread. */
export type FromHashWorker =
  | { t: 'freed'; id: number; slot: number }
  | { t: 'done'; id: number; hashes: HashSet }
  | { t: 'failed'; id: number; message: string };
