/**
 * A local folder copied to a local folder through the engine's transfer core and the production
 * local connector, in this process, as a backup does it (issue #21, the local row): K files in
 * flight through the engine's pool (sizes known, so small files share a slot), every write with
 * `deferSync` and one `flushWrites` at the end. CPU is reported as user AND system time: on ext4
 * creating a file costs more kernel time than the copy's JavaScript, and parallel creates on one
 * folder contend in the kernel.
 *
 *   npm run build && node dist/bench/local-copy.bench.js [--files 2000] [--photos 0]
 *       [--dir /tmp/cbe-local-copy] [--concurrency 4] [--rounds 3] [--no-defer]
 *       [--batch N [--in-flight 2]] [--no-clean]
 *
 * --batch N: the files the target can take in a batch (BatchCopier, <= 256 KiB) go through
 * `copyBatch` N at a time, --in-flight batches at once (the local connector's file worker, one
 * job per batch); larger files through the transfer core as without it. Each round also times a
 * walk of the source (`walkS`: the listings).
 * --no-clean: round R writes to <dir>/dst-R, which must not exist, and nothing is removed: to count
 * a round's system calls (`strace -f -c` of --rounds 2 minus --rounds 1) without the removal's.
 *
 * Seeds <dir>/src once (4-64 KiB files as transfer-cost.bench.ts; --photos N adds N files of
 * 2-8 MiB), then per round removes <dir>/dst, copies, and prints one JSON line. Put --dir on
 * /dev/shm to see user-space cost without the file system's. No runner, ledger or API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runPool } from '../src/backup/transfer/pool.js';
import { transferFile } from '../src/backup/transfer/transfer-file.js';
import { systemClock } from '../src/common/clock.js';
import { canCopyBatch } from '../src/connectors/capabilities.js';
import {
  BATCH_COPY_MAX_BYTES,
  type Connector,
  type Entry,
  type WriteBarrier,
} from '../src/connectors/connector.js';
import { CONNECTOR_DESCRIPTORS } from '../src/connectors/connector.registry.js';
import { contentBlocks, parseArgs } from './support/bench-util.js';

function openLocal(root: string): Connector {
  const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === 'local')!;
  return d.create(
    { config: { root }, secrets: {} },
    { clock: systemClock, saveSecrets: async () => undefined },
  );
}

async function* walk(c: Connector, dir: string): AsyncGenerator<Entry> {
  const folders: string[] = [];
  for await (const e of c.list(dir)) {
    if (e.kind === 'folder') folders.push(e.path);
    else yield e;
  }
  for (const f of folders) yield* walk(c, f);
}

async function seed(src: string, files: number, photos: number): Promise<void> {
  if (existsSync(join(src, '.seeded'))) return;
  await rm(src, { recursive: true, force: true });
  // The same files as transfer-cost.bench.ts (its seed; importing it would run that script).
  for (let i = 0; i < files; i++) {
    const dir = join(src, `d${String(i % 20).padStart(2, '0')}`);
    if (i < 20) await mkdir(dir, { recursive: true });
    const size = 4096 + ((i * 2654435761) % (60 * 1024 + 1));
    await writeFile(join(dir, `f${String(i).padStart(5, '0')}.bin`), [
      ...contentBlocks(size, i + 1),
    ]);
  }
  for (let i = 0; i < photos; i++) {
    const dir = join(src, 'photos');
    await mkdir(dir, { recursive: true });
    const size = 2 * 1024 * 1024 + ((i * 2654435761) % (6 * 1024 * 1024));
    await writeFile(join(dir, `p${String(i).padStart(4, '0')}.jpg`), [
      ...contentBlocks(size, 100_000 + i),
    ]);
  }
  await writeFile(join(src, '.seeded'), '');
}

async function main(): Promise<void> {
  const args = parseArgs();
  const files = Number(args.get('files') ?? 2000);
  const photos = Number(args.get('photos') ?? 0);
  const rounds = Number(args.get('rounds') ?? 3);
  const concurrency = Number(args.get('concurrency') ?? 4);
  const defer = !args.has('no-defer');
  const clean = !args.has('no-clean');
  const batch = Number(args.get('batch') ?? 0);
  const inFlight = Number(args.get('in-flight') ?? 2);
  const root = resolve(args.get('dir') ?? '/tmp/cbe-local-copy');
  const src = join(root, 'src');
  await seed(src, files, photos);
  const source = openLocal(src);
  const entries: Entry[] = [];
  for await (const e of walk(source, '')) if (e.name !== '.seeded') entries.push(e);
  for (let round = 0; round < rounds; round++) {
    const dst = join(root, clean ? 'dst' : `dst-${round}`);
    if (clean) await rm(dst, { recursive: true, force: true });
    await mkdir(dst);
    const target = openLocal(dst);
    const w0 = performance.now();
    let walked = 0;
    for await (const e of walk(source, '')) walked += e.size ?? 0;
    const walkS = round3((performance.now() - w0) / 1000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    let failed = 0;
    let rest = entries;
    if (batch > 0 && canCopyBatch(target, source)) {
      const small = entries.filter((e) => (e.size ?? Infinity) <= BATCH_COPY_MAX_BYTES);
      rest = entries.filter((e) => (e.size ?? Infinity) > BATCH_COPY_MAX_BYTES);
      const batches: Entry[][] = [];
      for (let i = 0; i < small.length; i += batch) batches.push(small.slice(i, i + batch));
      await runPool(each(batches), inFlight, async (b) => {
        const results = await target.copyBatch(
          source,
          b.map((e) => ({
            sourcePath: e.path,
            targetPath: e.path,
            expectedSize: e.size!,
            modifiedAt: e.modifiedAt,
          })),
        );
        for (const r of results) {
          if (r.ok) bytes += r.size;
          else failed++;
        }
      });
    }
    await runPool(
      each(rest),
      concurrency,
      async (e) => {
        const r = await transferFile({
          source,
          sourcePath: e.path,
          target,
          targetPath: e.path,
          expectedSize: e.size,
          modifiedAt: e.modifiedAt,
          deferSync: defer,
        });
        bytes += r.size;
      },
      { sizeOf: (e) => e.size },
    );
    if (defer) await (target as unknown as WriteBarrier).flushWrites();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const n = entries.length;
    process.stdout.write(
      `${JSON.stringify({
        round,
        mode: batch > 0 ? `batch ${batch} x ${inFlight}` : 'transferFile',
        files: n,
        failed,
        walkS,
        walkedBytes: walked,
        bytes,
        wallS: round3(wallMs / 1000),
        userS: round3(cpu.user / 1e6),
        sysS: round3(cpu.system / 1e6),
        userMsPerFile: round3(cpu.user / 1000 / n),
        sysMsPerFile: round3(cpu.system / 1000 / n),
        maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
        load: readFileSync('/proc/loadavg', 'utf8').trim(),
      })}\n`,
    );
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
