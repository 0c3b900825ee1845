/**
 * The one control API every cloud emulator implements (`emulator.api`), so tests, benchmarks, the
 * fault suite and the demo drive all four the same way instead of through four adapters. What is
 * specific to one service (Drive's partial persistence, Graph's delta expiry, iCloud's second
 * factor...) stays on that emulator's own `control`.
 */
export type EmulatorKind = 'google-drive' | 'onedrive' | 'dropbox' | 'icloud-photos';

export const EMULATOR_KINDS: readonly EmulatorKind[] = [
  'google-drive',
  'onedrive',
  'dropbox',
  'icloud-photos',
];

/**
 * Which requests a fault waits for (default: the next request of any kind). `traffic` is the
 * service's own split: API calls, data-carrying upload requests (Dropbox upload routes, Drive
 * session chunks, Graph fragment PUTs, iCloud photosupload), downloads (content / CDN).
 * `pathIncludes` narrows to one path: a Dropbox route (`files/download`, exact), a Drive path
 * fragment; OneDrive and iCloud Photos match by traffic only and throw when given a path.
 */
export interface FaultMatch {
  traffic?: 'api' | 'upload' | 'download';
  pathIncludes?: string;
}

/** Faults every service has an answer for, each in that service's own error shape. */
export type EmulatorFault =
  /** 429 (the service's rate-limit answer) with Retry-After, on the next `times` requests. */
  | { kind: 'rateLimit'; retryAfterSeconds?: number; times?: number; match?: FaultMatch }
  /** 503 (or 500) on the next `times` requests; Retry-After only when given. */
  | {
      kind: 'serverError';
      status?: 500 | 503;
      retryAfterSeconds?: number;
      times?: number;
      match?: FaultMatch;
    }
  /** The next download stops after `afterBytes` body bytes and the connection drops. */
  | { kind: 'cutDownload'; afterBytes: number; match?: FaultMatch }
  /**
   * The next data-carrying upload request is read for `afterBytes` body bytes, then the
   * connection drops without an answer. `keepBytes`: how much of it the service keeps (Dropbox
   * keeps what it is told; Drive whole 256 KiB units; OneDrive nothing); `skip`: upload requests
   * let through first. iCloud Photos throws (its uploads are not cut here).
   */
  | { kind: 'cutUpload'; afterBytes: number; keepBytes?: number; skip?: number; match?: FaultMatch }
  /** Access tokens (iCloud: the web session) issued so far stop working. */
  | { kind: 'expireAccessTokens' };

export interface EmulatorRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status answered (undefined while in flight). */
  status?: number;
  /** A stable label for counting, e.g. `GET /files/{id}?alt=media`, `files/upload`, `cdn GET`. */
  label: string;
  /** The request's `Range` header (downloads). */
  range?: string;
  /** Body bytes the client declared (Content-Length), when it sent a body. */
  bodyBytes?: number;
  /** The emulator cut this request's connection (an injected fault). */
  cut?: boolean;
  /**
   * For a data-carrying request of a chunked upload: its session (Dropbox session id, Drive
   * upload_id, Graph upload URL path) and the byte range it claimed (from its cursor or
   * Content-Range).
   */
  upload?: { session: string; offset: number; length: number };
}

/** A stored file: its path in the cloud and the file holding its bytes. */
export interface StoredFile {
  path: string;
  storedPath: string;
}

export interface EmulatorControlApi {
  readonly kind: EmulatorKind;
  /** Where this server listens (http://127.0.0.1:port). */
  readonly baseUrl: string;
  /** Everything a client needs to reach it: URLs, client id/secret, tokens, Apple ID. */
  readonly info: Record<string, unknown>;
  /**
   * Puts a file at a path (`a/b.txt`; for iCloud Photos the file name of a new photo, as a JPEG).
   * Parent folders are created.
   */
  seedFile(path: string, content: Buffer | string, opts?: { modifiedAt?: Date }): Promise<void>;
  /** The file holding the stored bytes of the file at a path, or undefined (assertions only). */
  storedFilePath(path: string): string | undefined;
  /** Every stored file below a folder (`''`: all), paths relative to the root (assertions only). */
  storedFiles(folder?: string): StoredFile[];
  inject(fault: EmulatorFault): void;
  /** The second-factor code last sent to the account's "trusted device" (iCloud; else undefined). */
  secondFactorCode(): string | undefined;
  /** Requests received so far (control calls excluded), oldest first. */
  requests(): EmulatorRequest[];
  clearRequests(): void;
  /** Drops pending faults and the request log; the stored content stays. */
  reset(): void;
  stop(): Promise<void>;
}

/** 'bytes 0-262143/800000' -> first byte and length; undefined for a status query ('bytes *\/N'). */
export function contentRangeOf(
  header: string | undefined,
): { first: number; length: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\//.exec(header) : null;
  return m ? { first: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 } : undefined;
}

export const trimSlashes = (p: string): string => p.replace(/^\/+|\/+$/g, '');

/** The error an emulator throws for a fault (or match) it has no answer for: never a silent no-op. */
export function unsupportedFault(kind: EmulatorKind, what: string): Error {
  return new Error(`the ${kind} emulator cannot inject ${what}`);
}
