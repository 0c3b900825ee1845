/**
 * The per-file cost of the transfer alone, in a process of its own (so its CPU and system calls
 * are counted apart from the server's and the driver's): a local folder of small files copied to
 * one target by the engine's own transfer core (`transferFile`: read -> SHA-256 in flight ->
 * target.write -> verify) through the production connector, K files at a time (`runPool`). No
 * runner, ledger, manifest or HTTP API: what is left is the connector's and the transfer's share
 * of a backup's per-file cost.
 *
 *   fork('dist/bench/support/transfer-cost-process.js', [JSON TransferCostSpec])
 *
 * Counts, which a busy machine does not distort: requests by kind (HTTP through Node's
 * `http.client.request.start` diagnostics channel, so the AWS SDK's and `webdav`'s requests alike;
 * SFTP by wrapping the request methods of ssh2's SFTP class), and CPU (user + system) of this
 * process for the copy. System calls are counted from outside (`strace -c -f`, see
 * transfer-cost.bench.ts).
 */
import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { runPool } from '../../src/backup/transfer/pool.js';
import { transferFile } from '../../src/backup/transfer/transfer-file.js';
import { systemClock } from '../../src/common/clock.js';
import type { Connector, Entry } from '../../src/connectors/connector.js';
import type { ConnectorSettings } from '../../src/connectors/connector-descriptor.js';
import { CONNECTOR_DESCRIPTORS } from '../../src/connectors/connector.registry.js';
import { joinPath } from '../../src/connectors/path.js';

export interface TransferCostSpec {
  target: { kind: string; settings: ConnectorSettings };
  sourceRoot: string;
  targetPath: string;
  concurrency: number;
}

export interface TransferCostResult {
  files: number;
  bytes: number;
  wallMs: number;
  cpuMs: number;
  /** Requests sent during the copy, by kind ('PUT', 'HEAD', 'sftp.open' ...). */
  requests: Record<string, number>;
}

const SFTP_REQUESTS = [
  'open',
  'close',
  'read',
  'write',
  'unlink',
  'rename',
  'mkdir',
  'rmdir',
  'readdir',
  'fstat',
  'stat',
  'lstat',
  'opendir',
  'setstat',
  'fsetstat',
  'realpath',
  'ext_openssh_rename',
  'ext_openssh_fsync',
] as const;

function countSftpRequests(requests: Record<string, number>): void {
  const require = createRequire(import.meta.url);
  let proto: Record<string, (...a: unknown[]) => unknown>;
  try {
    const sftpModule = require('ssh2/lib/protocol/SFTP.js') as {
      SFTP: { prototype: Record<string, (...a: unknown[]) => unknown> };
    };
    proto = sftpModule.SFTP.prototype;
  } catch {
    return;
  }
  for (const name of SFTP_REQUESTS) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      // ssh2's own helpers call each other (utimes -> setstat): count the wire request only.
      requests[`sftp.${name}`] = (requests[`sftp.${name}`] ?? 0) + 1;
      return original.apply(this, args);
    };
  }
  // utimes/futimes are wrappers of setstat/fsetstat: they must not count twice.
}

function open(kind: string, settings: ConnectorSettings): Connector {
  const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === kind);
  if (!d) throw new Error(`no connector '${kind}'`);
  return d.create(settings, { clock: systemClock, saveSecrets: async () => undefined });
}

async function* walk(c: Connector, dir: string): AsyncGenerator<Entry> {
  const folders: string[] = [];
  for await (const e of c.list(dir)) {
    if (e.kind === 'folder') folders.push(e.path);
    else yield e;
  }
  for (const f of folders) yield* walk(c, f);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as TransferCostSpec;
  const requests: Record<string, number> = {};
  countSftpRequests(requests);
  const source = open('local', { config: { root: spec.sourceRoot }, secrets: {} });
  const target = open(spec.target.kind, spec.target.settings);
  const entries: Entry[] = [];
  for await (const e of walk(source, '')) entries.push(e);
  // Connect first (SSH handshake, SDK loading), so the copy's figures hold only per-file work.
  await target.mkdir(spec.targetPath);
  for (const k of Object.keys(requests)) delete requests[k];
  subscribe('http.client.request.start', (msg) => {
    const method = (msg as { request: { method: string } }).request.method;
    requests[method] = (requests[method] ?? 0) + 1;
  });
  // Tell the driver we are ready (it may attach strace now) and wait for its go.
  process.stdout.write('ready\n');
  await nextLine();
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runPool(each(entries), spec.concurrency, async (e) => {
    const r = await transferFile({
      source,
      sourcePath: e.path,
      target,
      targetPath: joinPath(spec.targetPath, e.path),
      expectedSize: e.size,
      modifiedAt: e.modifiedAt,
    });
    bytes += r.size;
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await target.close?.();
  const result: TransferCostResult = {
    files: entries.length,
    bytes,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    requests,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // The driver detaches strace before letting us go, so the exit is not counted.
  await nextLine();
  process.exit(0);
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

let stdinLines: AsyncIterator<string> | undefined;
async function nextLine(): Promise<void> {
  if (!stdinLines) {
    const { createInterface } = await import('node:readline');
    stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  }
  await stdinLines.next();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
