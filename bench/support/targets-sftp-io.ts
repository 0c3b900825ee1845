/**
 * SFTP transfer rate on its own (issue #11): writes then reads one file through the SFTP
 * connector against OpenSSH sshd on loopback, with ssh2's one-request-at-a-time streams
 * (`--serial`) or the connector's pipelined ones (default), and prints MiB/s and the RSS growth.
 *
 *   node dist/bench/support/targets-sftp-io.js [--size-mib 128] [--serial]
 */
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { systemClock } from '../../src/common/clock.js';
import { createSftpConnector } from '../../src/connectors/sftp/sftp.factory.js';
import { SftpSession } from '../../src/connectors/sftp/sftp.client.js';
import { Pacer } from '../../src/connectors/pacer/pacer.js';
import { sftpOptionsFrom } from '../../src/connectors/sftp/index.js';
import { startSftpServer } from '../../test/servers/openssh-sftp.server.js';
import { MiB, parseArgs, round } from './bench-util.js';

function body(size: number): Readable {
  const block = Buffer.alloc(64 * 1024, 7);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(Buffer.from(block.subarray(0, n)));
    },
  });
}

async function main(): Promise<void> {
  const args = parseArgs();
  const size = Number(args.get('size-mib') ?? 128) * MiB;
  const serial = args.has('serial');
  const server = await startSftpServer();
  const settings = {
    config: {
      host: server.host,
      port: server.port,
      username: server.username,
      root: server.root,
      hostKeyFingerprint: server.hostKeyFingerprint,
    },
    secrets: { password: server.password },
  };
  const ctx = { clock: systemClock, saveSecrets: async () => undefined };
  try {
    const rss0 = process.memoryUsage().rss;
    let t = performance.now();
    let readMs: number;
    let writeMs: number;
    if (serial) {
      // ssh2's own streams, as the connector used them before.
      const o = sftpOptionsFrom(settings);
      const session = new SftpSession(o, new Pacer({ clock: systemClock }), async () => undefined);
      const sftp = await session.sftp();
      t = performance.now();
      await pipeline(body(size), sftp.createWriteStream(`${o.root}/io.bin`, { flags: 'w' }));
      writeMs = performance.now() - t;
      t = performance.now();
      const h = createHash('sha256');
      await pipeline(
        sftp.createReadStream(`${o.root}/io.bin`, { highWaterMark: 64 * 1024 }),
        new Writable({ write: (c: Buffer, _e, cb) => (h.update(c), cb()) }),
      );
      readMs = performance.now() - t;
      await session.close();
    } else {
      const c = createSftpConnector(settings, ctx);
      await c.stat('');
      t = performance.now();
      await c.write('io.bin', body(size), { size });
      writeMs = performance.now() - t;
      t = performance.now();
      const h = createHash('sha256');
      await pipeline(
        await c.read('io.bin'),
        new Writable({ write: (c: Buffer, _e, cb) => (h.update(c), cb()) }),
      );
      readMs = performance.now() - t;
      await c.close();
    }
    const mib = size / MiB;
    console.log(
      JSON.stringify({
        mode: serial ? 'ssh2 streams (one request in flight)' : 'connector (pipelined)',
        sizeMiB: mib,
        writeMiBps: round(mib / (writeMs / 1000), 1),
        readMiBps: round(mib / (readMs / 1000), 1),
        rssGrowthMiB: round((process.memoryUsage().rss - rss0) / MiB, 1),
      }),
    );
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
