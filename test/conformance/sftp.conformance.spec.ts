import { Readable } from 'node:stream';
import { IsADirectoryError } from '../../src/connectors/connector.errors.js';
import { systemClock } from '../../src/common/clock.js';
import { createSftpConnector } from '../../src/connectors/sftp/sftp.factory.js';
import { startSftpServer } from '../servers/openssh-sftp.server.js';
import { describeConnectorConformance } from './connector-conformance.js';

const unsupported = {
  changeFeed: 'SFTP has no change feed',
  serverSideCopy: 'SFTP v3 has no copy request (copy-data is an extension OpenSSH lacks)',
  faults:
    'OpenSSH sshd is a real server: it has no rate limits or expiring tokens to inject; error mapping has unit specs',
};

for (const auth of ['password', 'key'] as const) {
  describeConnectorConformance(`sftp (${auth} auth, OpenSSH)`, {
    create: async () => {
      const server = await startSftpServer();
      const connector = createSftpConnector(
        {
          config: {
            host: server.host,
            port: server.port,
            username: server.username,
            root: server.root,
            hostKeyFingerprint: server.hostKeyFingerprint,
          },
          secrets:
            auth === 'password'
              ? { password: server.password }
              : { privateKey: server.privateKey, passphrase: server.passphrase },
        },
        { clock: systemClock, saveSecrets: async () => undefined },
      );
      return { connector, cleanup: () => server.stop() };
    },
    unsupported,
    limits: { uploadChunkSize: 64 * 1024, listPageSize: 150 },
  });
}

describe('sftp requests per file (issue #21)', () => {
  let server: Awaited<ReturnType<typeof startSftpServer>>;
  const sent: string[] = [];
  const restore: Array<() => void> = [];

  beforeAll(async () => {
    server = await startSftpServer();
    // The module the connector's ssh2 uses (no exports map: the deep path is public enough).
    const path = 'ssh2/lib/protocol/SFTP.js';
    const { SFTP } = (await import(path)) as {
      SFTP: { prototype: Record<string, (...a: unknown[]) => unknown> };
    };
    for (const name of [
      'open',
      'close',
      'write',
      'stat',
      'mkdir',
      'setstat',
      'ext_openssh_rename',
    ]) {
      const original = SFTP.prototype[name]!;
      SFTP.prototype[name] = function (this: unknown, ...args: unknown[]) {
        sent.push(name);
        return original.apply(this, args);
      };
      restore.push(() => (SFTP.prototype[name] = original));
    }
  });
  afterAll(async () => {
    for (const r of restore) r();
    await server.stop();
  });

  it('should look at a folder once per connector, not once per file written into it', async () => {
    const c = createSftpConnector(
      {
        config: {
          host: server.host,
          port: server.port,
          username: server.username,
          root: server.root,
          hostKeyFingerprint: server.hostKeyFingerprint,
        },
        secrets: { password: server.password },
      },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    const body = () => Readable.from([Buffer.from('small file')]);
    await c.write('run/d1/warm.txt', body(), { size: 10 });
    sent.length = 0;
    await c.write('run/d1/a.txt', body(), { size: 10, modifiedAt: new Date(1e12) });
    await c.write('run/d1/b.txt', body(), { size: 10, modifiedAt: new Date(1e12) });
    // Per file: OPEN, WRITE, CLOSE, SETSTAT (the time), posix-rename, STAT (size check).
    expect(sent.filter((n) => n === 'stat')).toHaveLength(2);
    expect(sent).toHaveLength(12);
    await c.mkdir('run/d1/folder');
    await expect(c.write('run/d1/folder', body(), { size: 10 })).rejects.toBeInstanceOf(
      IsADirectoryError,
    );
    await c.close?.();
  });
});
