/**
 * Child-process entry that runs one cloud emulator for a benchmark, so the emulator's CPU and
 * memory stay out of the engine's process and out of the bench driver's:
 *
 *   fork('dist/bench/support/emulator-host.js', [kind, JSON options])   (see emulator-process.ts)
 *
 * The emulators' seeding helpers are in-process only, so this host starts the emulator and
 * answers over the IPC channel through the emulators' shared control API: seed a file with the emulator's seeding helper, hash the bytes
 * the emulator stores at a path (its own blob file, read from disk, independent of any
 * connector), summarise and clear the request log, hand out the iCloud second-factor code.
 */
import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import type { EmulatorKind } from '../../emulators/emulator-control.js';
import { startICloudPhotosEmulator } from '../../emulators/icloud-photos/icloud-photos.emulator.js';
import { startEmulator } from '../../emulators/start-emulator.js';
import { contentBlocks, sha256File } from './bench-util.js';

export type { EmulatorKind };

export interface RequestSummary {
  total: number;
  byLabel: Record<string, number>;
  /** iCloud: CloudKit queries per recordType, with the most common startRank step (page size). */
  queries?: Record<string, { count: number; pageStride: number | null }>;
}

function queryStats(
  entries: ReadonlyArray<{ recordType?: string; startRank?: number }>,
): NonNullable<RequestSummary['queries']> {
  const ranks = new Map<string, number[]>();
  for (const e of entries) {
    if (!e.recordType) continue;
    const list = ranks.get(e.recordType) ?? [];
    if (e.startRank !== undefined) list.push(e.startRank);
    ranks.set(e.recordType, list);
  }
  const out: NonNullable<RequestSummary['queries']> = {};
  for (const [type, list] of ranks) {
    const sorted = [...new Set(list)].sort((a, b) => a - b);
    const steps = new Map<number, number>();
    for (let i = 1; i < sorted.length; i++) {
      const d = sorted[i]! - sorted[i - 1]!;
      steps.set(d, (steps.get(d) ?? 0) + 1);
    }
    const best = [...steps].sort((a, b) => b[1] - a[1])[0];
    out[type] = {
      count: entries.filter((e) => e.recordType === type).length,
      pageStride: best ? best[0] : null,
    };
  }
  return out;
}

/** What the parent can ask; every answer is JSON. */
export interface HostOps {
  seedFile(args: { path: string; size: number; seed: number }): { sha256: string; size: number };
  /** Many files in one IPC round trip (the scenario matrix seeds 10,000); no hashes. */
  seedMany(args: { files: Array<{ path: string; size: number; seed: number }> }): {
    files: number;
    bytes: number;
  };
  storedFile(args: { path: string }): { sha256: string; size: number } | null;
  requests(): RequestSummary;
  clearRequests(): null;
  securityCode(): string | null;
  stop(): null;
}

interface Hosted {
  /** Sent to the parent once listening: base URL, credentials, hosts. */
  info: Record<string, unknown>;
  seed(path: string, content: Buffer): Promise<void>;
  blobPath(path: string): string | undefined;
  requests(): RequestSummary;
  clearRequests(): void;
  securityCode(): string | null;
  stop(): Promise<void>;
}

function tally(labels: string[]): RequestSummary {
  const byLabel: Record<string, number> = {};
  for (const l of labels) byLabel[l] = (byLabel[l] ?? 0) + 1;
  return { total: labels.length, byLabel };
}

/**
 * One emulator behind the shared control API (emulator.api): seeding, stored bytes, the request
 * log and the second-factor code are the same calls for all four.
 */
async function host(kind: EmulatorKind, options: Record<string, unknown>): Promise<Hosted> {
  if (kind === 'icloud-photos') {
    const librarySize = Number(options.librarySize ?? 1000);
    const e = await startICloudPhotosEmulator({
      port: 0,
      librarySize,
      maxFileSize: Number(options.maxFileSize ?? 48 * 1024),
      minFileSize: Number(options.minFileSize ?? 1024),
    });
    return {
      info: { ...e.api.info, librarySize, visibleItems: e.primary.visible().length },
      seed: () => Promise.reject(new Error('the iCloud Photos library is generated, not seeded')),
      blobPath: () => undefined,
      requests: () => ({
        ...tally(e.api.requests().map((r) => r.label)),
        queries: queryStats(e.requestLog.entries),
      }),
      clearRequests: () => e.api.clearRequests(),
      securityCode: () => e.api.secondFactorCode() ?? null,
      stop: () => e.api.stop(),
    };
  }
  const api = await startEmulator(
    kind,
    kind === 'google-drive' ? { port: 0, fixtures: false } : { port: 0 },
  );
  return {
    info: api.info,
    seed: (path, content) => api.seedFile(path, content),
    blobPath: (path) => api.storedFilePath(path),
    requests: () => tally(api.requests().map((r) => r.label)),
    clearRequests: () => api.clearRequests(),
    securityCode: () => api.secondFactorCode() ?? null,
    stop: () => api.stop(),
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as EmulatorKind;
  const options = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
  const h = await host(kind, options);
  const send = (m: unknown) => process.send?.(m);

  const ops: { [K in keyof HostOps]: (args: never) => Promise<unknown> } = {
    seedFile: async (a: { path: string; size: number; seed: number }) => {
      if (a.size > bufferConstants.MAX_LENGTH)
        throw new Error(
          `seeding helpers take a Buffer: at most ${bufferConstants.MAX_LENGTH} bytes`,
        );
      // The emulators' seeding helpers take a Buffer: build it here (emulator process memory).
      const content = Buffer.allocUnsafe(a.size);
      const hash = createHash('sha256');
      let at = 0;
      for (const block of contentBlocks(a.size, a.seed)) {
        block.copy(content, at);
        hash.update(block);
        at += block.length;
      }
      await h.seed(a.path, content);
      return { sha256: hash.digest('hex'), size: a.size };
    },
    seedMany: async (a: { files: Array<{ path: string; size: number; seed: number }> }) => {
      let bytes = 0;
      for (const f of a.files) {
        const content = Buffer.allocUnsafe(f.size);
        let at = 0;
        for (const block of contentBlocks(f.size, f.seed)) {
          block.copy(content, at);
          at += block.length;
        }
        await h.seed(f.path, content);
        bytes += f.size;
      }
      return { files: a.files.length, bytes };
    },
    storedFile: async (a: { path: string }) => {
      const p = h.blobPath(a.path);
      return p ? sha256File(p) : null;
    },
    requests: async () => h.requests(),
    clearRequests: async () => {
      h.clearRequests();
      return null;
    },
    securityCode: async () => h.securityCode(),
    stop: async () => {
      await h.stop();
      setImmediate(() => process.exit(0));
      return null;
    },
  };

  process.on('message', (m: { id: number; op: keyof HostOps; args?: unknown }) => {
    const fn = ops[m.op] as ((args: unknown) => Promise<unknown>) | undefined;
    if (!fn) {
      send({ id: m.id, ok: false, error: `unknown op '${String(m.op)}'` });
      return;
    }
    fn(m.args).then(
      (result) => send({ id: m.id, ok: true, result }),
      (e: unknown) => send({ id: m.id, ok: false, error: (e as Error).stack ?? String(e) }),
    );
  });
  process.on('disconnect', () => {
    void h.stop().finally(() => process.exit(0));
  });
  send({ type: 'ready', info: h.info });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
