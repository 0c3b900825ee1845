/**
 * Faults the emulator injects on demand, each consumed by the first request it matches: `route`
 * one route exactly, `routes` any of a set (the shared control API's traffic classes).
 */
export type FaultSpec =
  | {
      kind: 'rate_limit';
      reason: 'too_many_requests' | 'too_many_write_operations';
      retryAfterSeconds: number;
      route?: string;
      routes?: readonly string[];
    }
  | {
      kind: 'status';
      status: 500 | 503 | 507;
      retryAfterSeconds?: number;
      route?: string;
      routes?: readonly string[];
    }
  /** Sends the headers and `afterBytes` of a download body, then destroys the socket. */
  | { kind: 'cut_download'; afterBytes: number; route?: string; routes?: readonly string[] }
  /**
   * Reads `afterBytes` of an upload body, keeps the first `keepBytes` of them (an append that
   * half-landed), then destroys the socket without answering.
   */
  | {
      kind: 'cut_upload';
      afterBytes: number;
      keepBytes: number;
      route?: string;
      routes?: readonly string[];
      /** Matching requests let through first. */
      skip?: number;
    }
  /** Flips a byte of the next committed file, so its content_hash differs from the client's. */
  | { kind: 'corrupt_commit'; route?: string; routes?: readonly string[] };

export type FaultKind = FaultSpec['kind'];

export class FaultQueue {
  private readonly queue: FaultSpec[] = [];

  push(f: FaultSpec): void {
    this.queue.push(f);
  }

  clear(): void {
    this.queue.length = 0;
  }

  get pending(): readonly FaultSpec[] {
    return this.queue;
  }

  /** Removes and returns the first fault of one of `kinds` that applies to `route`. */
  take<K extends FaultKind>(
    route: string,
    kinds: readonly K[],
  ): Extract<FaultSpec, { kind: K }> | undefined {
    const i = this.queue.findIndex(
      (f) =>
        (kinds as readonly FaultKind[]).includes(f.kind) &&
        (f.route === undefined || f.route === route) &&
        (f.routes === undefined || f.routes.includes(route)),
    );
    if (i < 0) return undefined;
    const f = this.queue[i]!;
    if (f.kind === 'cut_upload' && (f.skip ?? 0) > 0) {
      f.skip!--;
      return undefined;
    }
    return this.queue.splice(i, 1)[0] as Extract<FaultSpec, { kind: K }>;
  }
}
