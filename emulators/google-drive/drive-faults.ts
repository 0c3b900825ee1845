/** Which requests a queued fault applies to. */
export type FaultTarget =
  /** Every Drive API and upload request (not OAuth). */
  | 'any'
  /** `/drive/v3/...` (metadata, downloads, changes). */
  | 'api'
  /** `alt=media` downloads and exports. */
  | 'download'
  /** Everything under `/upload/drive/v3/...` (session starts, chunk PUTs, multipart). */
  | 'upload'
  /** Chunk PUTs to a resumable session URI only. */
  | 'uploadChunk'
  /** The OAuth token endpoint. */
  | 'token';

export type ErrorReason =
  | 'userRateLimitExceeded'
  | 'rateLimitExceeded'
  | 'dailyLimitExceeded'
  | 'storageQuotaExceeded'
  | 'backendError';

export type Fault =
  /** Answer with an error body (429 / 403 rate limits, 500 / 503 backendError...). */
  | {
      type: 'error';
      status: 403 | 429 | 500 | 502 | 503 | 504;
      reason?: ErrorReason;
      retryAfterSeconds?: number;
    }
  /** Send the headers and `afterBytes` of the body, then cut the connection. */
  | { type: 'cutDownload'; afterBytes: number }
  /**
   * Read `afterBytes` of a chunk, keep `persistBytes` of them (default: the received bytes rounded
   * down to 256 KiB), then cut the connection without answering.
   */
  | { type: 'cutUpload'; afterBytes: number; persistBytes?: number }
  /** Take the whole chunk but keep only `keepBytes` of it; the 308 Range says so. */
  | { type: 'partialPersist'; keepBytes: number }
  /** The resumable session dies (as after a week, or server side loss): 404 from now on. */
  | { type: 'expireSession' };

export interface QueuedFault {
  fault: Fault;
  target: FaultTarget;
  remaining: number;
  /** Only requests whose path contains this string. */
  pathIncludes?: string;
  /** Matching requests to let through before the fault fires (e.g. 1: the second chunk). */
  skip?: number;
}

export type RequestClass = 'api' | 'download' | 'upload' | 'uploadChunk' | 'token' | 'other';

export function targetMatches(target: FaultTarget, cls: RequestClass): boolean {
  switch (target) {
    case 'any':
      return cls !== 'token' && cls !== 'other';
    case 'api':
      return cls === 'api' || cls === 'download';
    case 'upload':
      return cls === 'upload' || cls === 'uploadChunk';
    case 'download':
    case 'uploadChunk':
    case 'token':
      return cls === target;
  }
}

/** Fault types that only make sense for one request class. */
export function implicitTarget(f: Fault): FaultTarget | undefined {
  if (f.type === 'cutDownload') return 'download';
  if (f.type === 'cutUpload' || f.type === 'partialPersist' || f.type === 'expireSession')
    return 'uploadChunk';
  return undefined;
}

export class FaultQueue {
  private readonly queue: QueuedFault[] = [];

  push(q: QueuedFault): void {
    this.queue.push(q);
  }

  clear(): void {
    this.queue.length = 0;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Takes the first fault matching this request (and of a kind the handler can apply). */
  take(cls: RequestClass, path: string, accept: (f: Fault) => boolean): Fault | undefined {
    const i = this.queue.findIndex((q) => {
      if (
        !targetMatches(q.target, cls) ||
        (q.pathIncludes !== undefined && !path.includes(q.pathIncludes))
      ) {
        return false;
      }
      if (!accept(q.fault)) return false;
      if ((q.skip ?? 0) > 0) {
        q.skip!--;
        return false;
      }
      return true;
    });
    if (i < 0) return undefined;
    const q = this.queue[i]!;
    if (--q.remaining <= 0) this.queue.splice(i, 1);
    return q.fault;
  }
}
