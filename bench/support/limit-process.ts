/**
 * "The limit" of the scenario matrix, in a child process of its own (so its CPU and memory are
 * measured apart from the engine's and the driver's):
 *
 *   fork('dist/bench/support/limit-process.js', [JSON LimitSpec])   (see limit-runner.ts)
 *
 * It is the same production connector classes the engine uses (`descriptor.create`, product
 * default options: the same upload chunk sizes, the same download code, the same pacer), joined by
 * a plain stream: `target.write(path, await source.read(path))`, K files at a time with K = the
 * engine's default task concurrency. What it leaves out is everything the engine adds around the
 * connectors: no planner (a plain recursive `list`), no ledger or SQLite, no HashingTransform (no
 * SHA-256 in flight, no post-copy hash comparison), no retries, no manifest, no run records.
 *
 * Why connectors rather than raw HTTP: the question is "what does the engine cost on top of the
 * bytes moving", and the connectors' own protocol work (resumable sessions, chunk PUTs, the
 * emulator's round trips) is the floor any engine built on them pays; raw protocol calls would
 * mix in connector differences that the engine cannot change.
 *
 * Modes: `copy` lists the source and copies every file (or only `only`); `list` lists only (the
 * floor of a repeat run with nothing changed).
 */
import type { Connector, Entry } from '../../src/connectors/connector.js';
import type { ConnectorSettings } from '../../src/connectors/connector-descriptor.js';
import { CONNECTOR_DESCRIPTORS } from '../../src/connectors/connector.registry.js';
import { joinPath, relativeTo } from '../../src/connectors/path.js';
import { systemClock } from '../../src/common/clock.js';

export interface LimitSide {
  kind: string;
  settings: ConnectorSettings;
}

export interface LimitSpec {
  mode: 'copy' | 'list';
  source: LimitSide;
  sourcePath: string;
  target?: LimitSide;
  targetPath?: string;
  concurrency: number;
  /** Copy only these source-relative paths (still after a full listing). */
  only?: string[];
}

export interface LimitResult {
  files: number;
  bytes: number;
  listed: number;
  listMs: number;
  copyMs: number;
  totalMs: number;
  /** CPU (user + system) of this process from the listing to the last byte, seconds. */
  cpuSeconds: number;
}

function open(side: LimitSide): Connector {
  const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === side.kind);
  if (!d) throw new Error(`no connector '${side.kind}'`);
  return d.create(side.settings, { clock: systemClock, saveSecrets: async () => undefined });
}

async function listAll(c: Connector, root: string): Promise<Array<{ rel: string; entry: Entry }>> {
  const out: Array<{ rel: string; entry: Entry }> = [];
  const dirs = [root];
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    for await (const entry of c.list(dir, {})) {
      if (entry.kind === 'folder') dirs.push(entry.path);
      else {
        const rel = relativeTo(root, entry.path);
        if (rel) out.push({ rel, entry });
      }
    }
  }
  return out;
}

export async function runLimit(spec: LimitSpec): Promise<LimitResult> {
  const source = open(spec.source);
  const target = spec.target ? open(spec.target) : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const listed = await listAll(source, spec.sourcePath);
  const t1 = performance.now();
  let files = 0;
  let bytes = 0;
  if (spec.mode === 'copy') {
    if (!target) throw new Error('copy needs a target');
    const only = spec.only ? new Set(spec.only) : undefined;
    const todo = only ? listed.filter((f) => only.has(f.rel)) : listed;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < todo.length) {
        const f = todo[next++]!;
        const body = await source.read(f.entry.path, {});
        const stored = await target.write(joinPath(spec.targetPath ?? '', f.rel), body, {
          size: f.entry.size,
          modifiedAt: f.entry.modifiedAt,
        });
        files++;
        bytes += stored.size ?? f.entry.size ?? 0;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, spec.concurrency) }, lane));
  }
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await source.close?.();
  await target?.close?.();
  return {
    files,
    bytes,
    listed: listed.length,
    listMs: t1 - t0,
    copyMs: t2 - t1,
    totalMs: t2 - t0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

// Child entry: run the spec from argv, report over IPC, then wait to be told to exit (so the
// parent can read this process's VmHWM and /proc io while it still exists).
if (process.send && process.argv[2]) {
  const spec = JSON.parse(process.argv[2]) as LimitSpec;
  runLimit(spec).then(
    (result) => process.send!({ ok: true, result }),
    (e: unknown) => process.send!({ ok: false, error: (e as Error).stack ?? String(e) }),
  );
  process.on('message', (m) => {
    if (m === 'exit') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}
