/**
 * What the digests of the transfer core cost the MAIN thread (issue 18: "source-hash checking
 * costs < 5 % of throughput"): the engine's HashingTransform alone, 4 streams at once (the
 * default task concurrency), each fed 64 KiB chunks as a socket gives them, with the kinds a
 * source of each cloud makes the engine compute (SHA-256 for the ledger plus every kind the
 * source reports), hashed on the main thread or on the hashing worker, rounds alternating.
 *
 *   npm run build && node dist/bench/hashing.bench.js [--mib 256] [--rounds 3]
 *
 * Per row: wall seconds, process CPU seconds (all threads), MAIN-thread CPU seconds (utime +
 * stime of /proc/self/task/<pid>/stat: the thread that also runs the connectors, the ledger and
 * the API). Main-thread CPU does not depend on the machine's load the way
 * wall time does: it is the firm figure.
 */
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HashKind } from '../src/connectors/hashing/hash-kinds.js';
import { HashingTransform } from '../src/connectors/hashing/hashing-transform.js';
import {
  hashingSettings,
  sharedHashWorkerPool,
} from '../src/connectors/hashing/off-thread-hashing.js';
import { describeMachine, machineInfo, MiB, parseArgs, round } from './support/bench-util.js';

const SOURCES: Record<string, HashKind[]> = {
  'local (ledger SHA-256 only)': ['sha256'],
  dropbox: ['sha256', 'dropbox'],
  'google-drive': ['sha256', 'md5', 'sha1'],
  onedrive: ['sha256', 'quickXor'],
};

const CHUNK = 64 * 1024;
const STREAMS = 4;

/** CPU seconds of this process's main thread (its task id is the pid). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) (utime, stime), counted from 3 after the command's ')'.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A source that hands out fresh 64 KiB chunks on later turns of the event loop, like a socket. */
function source(bytes: number, pattern: Buffer): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      sent += CHUNK;
      setImmediate(() => this.push(Buffer.from(pattern)));
    },
  });
}

async function measure(kinds: HashKind[], offThread: boolean, bytesPerStream: number) {
  hashingSettings.offThreadFromBytes = offThread ? 0 : Number.POSITIVE_INFINITY;
  const pattern = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) pattern[i] = (i * 7 + 3) & 0xff;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const h = new HashingTransform(kinds, undefined, { expectedSize: bytesPerStream });
      await pipeline(
        source(bytesPerStream, pattern),
        h,
        new Writable({ write: (_c, _e, cb) => cb() }),
      );
      return h.hashes;
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return {
    wallS: round((performance.now() - t0) / 1000, 2),
    cpuS: round((cpu.user + cpu.system) / 1e6, 2),
    mainCpuS: round(mainThreadCpu() - main0, 2),
  };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const mib = Number(args.get('mib') ?? 256);
  const rounds = Number(args.get('rounds') ?? 3);
  const bytes = mib * MiB;
  console.log(describeMachine(machineInfo()));
  console.log(
    `${STREAMS} streams x ${mib} MiB, ${CHUNK / 1024} KiB chunks, ${hashingSettings.workers} hashing worker(s), ${rounds} rounds\n`,
  );
  console.log('| source | where | wall s | CPU s (all threads) | main-thread CPU s | load |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const [name, kinds] of Object.entries(SOURCES)) {
    for (let r = 0; r < rounds; r++) {
      for (const off of r % 2 === 0 ? [false, true] : [true, false]) {
        const m = await measure(kinds, off, bytes);
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
        console.log(
          `| ${name} | ${off ? 'worker' : 'main thread'} | ${m.wallS} | ${m.cpuS} | ${m.mainCpuS} | ${load} |`,
        );
      }
    }
  }
  await sharedHashWorkerPool()?.close();
}

await main();
