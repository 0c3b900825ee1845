/** Shared between the fault suite's driver (`chaos.ts`) and its emulator host process. */

export type ChaosCloud = 'dropbox' | 'google-drive' | 'onedrive';

/** Kinds of injected fault, as reported. */
export const FAULT_KINDS = [
  'rateLimit429',
  'unavailable503',
  'serverError500',
  'cutDownload',
  'cutUpload',
  'truncatedBody',
  'tokenExpiry',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Per-request probabilities (each request gets at most one fault; token expiry rolls apart). */
export interface FaultPlan {
  seed: number;
  rateLimit429: number;
  unavailable503: number;
  serverError500: number;
  /** Of download requests only. */
  cutDownload: number;
  /** Of download requests only. */
  truncatedBody: number;
  /** Of upload requests that carry a body only. */
  cutUpload: number;
  /** Per request: every access token the emulator issued expires now. */
  tokenExpiry: number;
  retryAfterSeconds: number;
}

export interface ChaosStats {
  /** Faults the host decided on and handed to the emulator / laid over its response. */
  planned: Record<FaultKind, number>;
  /** Faults as the client saw them, from the responses the emulator sent. */
  observed: Record<FaultKind, number>;
  /** 401 answers (expired access tokens hit by a request). */
  unauthorized: number;
  /** Download requests that asked for a Range starting past byte 0 (a resumed body). */
  rangeResumes: number;
  requests: { total: number; download: number; upload: number; api: number };
}

export interface StoredObject {
  path: string;
  size: number;
  sha256: string;
}

/** Small, fast, seedable PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
