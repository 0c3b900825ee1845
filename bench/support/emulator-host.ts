/**
 * Child-process entry that runs one cloud emulator for a benchmark, so the emulator's CPU and
 * memory stay out of the engine's process and out of the bench driver's:
 *
 *   fork('dist/bench/support/emulator-host.js', [kind, JSON options])   (see emulator-process.ts)
 *
 * The emulators' own `main.ts` print their base URL and credentials but only some expose their
 * request log over HTTP (OneDrive and iCloud Photos do not) and their seeding helpers are
 * in-process only, so this host starts the same emulator through the same start function and
 * answers over the IPC channel: seed a file with the emulator's seeding helper, hash the bytes
 * the emulator stores at a path (its own blob file, read from disk, independent of any
 * connector), summarise and clear the request log, hand out the iCloud second-factor code.
 */
import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { startDropboxEmulator } from '../../test/emulators/dropbox/dropbox-emulator.js';
import { startGoogleDriveEmulator } from '../../test/emulators/google-drive/google-drive.emulator.js';
import { startICloudPhotosEmulator } from '../../test/emulators/icloud-photos/icloud-photos.emulator.js';
import { startOneDriveEmulator } from '../../test/emulators/onedrive/onedrive-emulator.js';
import { contentBlocks, sha256File } from './bench-util.js';

export type EmulatorKind = 'dropbox' | 'google-drive' | 'onedrive' | 'icloud-photos';

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

const trimSlash = (p: string) => p.replace(/^\/+/, '');

async function host(kind: EmulatorKind, options: Record<string, unknown>): Promise<Hosted> {
  switch (kind) {
    case 'dropbox': {
      const e = await startDropboxEmulator({ port: 0 });
      return {
        info: { baseUrl: e.baseUrl, hosts: e.hosts, credentials: e.credentials },
        seed: async (path, content) => {
          await e.seedFile(`/${trimSlash(path)}`, content);
        },
        blobPath: (path) => {
          const n = e.store.resolve(`/${trimSlash(path)}`);
          return n && n.kind === 'file' ? n.blob : undefined;
        },
        requests: () =>
          tally(e.requestLog.filter((r) => r.host !== '_control').map((r) => `${r.route}`)),
        clearRequests: () => e.clearRequestLog(),
        securityCode: () => null,
        stop: () => e.stop(),
      };
    }
    case 'google-drive': {
      const e = await startGoogleDriveEmulator({ port: 0, fixtures: false });
      return {
        info: { baseUrl: e.baseUrl, credentials: e.credentials },
        seed: async (path, content) => {
          await e.seed.file(trimSlash(path), content);
        },
        blobPath: (path) => e.findByPath(trimSlash(path))?.blob?.path,
        requests: () =>
          tally(
            e.requestLog.map((r) => {
              const p = r.path
                .replace(/\/files\/[^/]+/, '/files/{id}')
                .replace(/\/drive\/v3/, '')
                .replace(/^\/upload\/drive\/v3/, '/upload');
              const extra = r.query.alt === 'media' ? '?alt=media' : '';
              return `${r.method} ${p}${extra}`;
            }),
          ),
        clearRequests: () => {
          e.requestLog.length = 0;
        },
        securityCode: () => null,
        stop: () => e.stop(),
      };
    }
    case 'onedrive': {
      const e = await startOneDriveEmulator({ port: 0 });
      return {
        info: { baseUrl: e.baseUrl, credentials: e.credentials },
        seed: async (path, content) => {
          await e.seed.file(trimSlash(path), content);
        },
        blobPath: (path) => e.drive.resolve(e.drive.root, trimSlash(path).split('/'))?.blob?.path,
        requests: () =>
          tally(
            e.requestLog.map((r) => {
              const path = r.url.split('?')[0]!;
              const what =
                /:\/(children|content|createUploadSession)$/.exec(path)?.[1] ??
                /\/(children|content|createUploadSession|delta)$/.exec(path)?.[1] ??
                (r.role === 'graph' ? 'item' : '');
              return `${r.role} ${r.method}${what ? ` ${what}` : ''}`;
            }),
          ),
        clearRequests: () => {
          e.requestLog.length = 0;
        },
        securityCode: () => null,
        stop: () => e.stop(),
      };
    }
    case 'icloud-photos': {
      const librarySize = Number(options.librarySize ?? 1000);
      const e = await startICloudPhotosEmulator({
        port: 0,
        librarySize,
        maxFileSize: Number(options.maxFileSize ?? 48 * 1024),
        minFileSize: Number(options.minFileSize ?? 1024),
      });
      return {
        info: {
          baseUrl: e.baseUrl,
          authBaseUrl: e.authBaseUrl,
          setupBaseUrl: e.setupBaseUrl,
          credentials: e.credentials,
          librarySize,
          visibleItems: e.primary.visible().length,
        },
        seed: () => Promise.reject(new Error('the iCloud Photos library is generated, not seeded')),
        blobPath: () => undefined,
        requests: () => ({
          total: e.requestLog.count(),
          byLabel: e.requestLog.counts(),
          queries: queryStats(e.requestLog.entries),
        }),
        clearRequests: () => e.requestLog.clear(),
        securityCode: () => e.control.lastSecurityCode() ?? null,
        stop: () => e.stop(),
      };
    }
  }
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
