import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { systemClock } from '../../../../src/common/clock.js';
import type { ConnectorSecrets } from '../../../../src/connectors/connector-descriptor.js';
import { AuthExpiredError, FatalError } from '../../../../src/connectors/connector.errors.js';
import { createSftpConnector } from '../../../../src/connectors/sftp/sftp.factory.js';
import { startSftpServer, type SftpServer } from '../../../servers/openssh-sftp.server.js';

// Against a real OpenSSH sshd (started by the test, as root): host key pinning is about what a
// real server presents, which no fake shows faithfully.
describe('sftp host key pinning and authentication (OpenSSH)', () => {
  let server: SftpServer;

  beforeAll(async () => {
    server = await startSftpServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  function connector(secrets: ConnectorSecrets, saved: ConnectorSecrets[], pinned?: string) {
    return createSftpConnector(
      {
        config: {
          host: server.host,
          port: server.port,
          username: server.username,
          root: server.root,
          ...(pinned ? { hostKeyFingerprint: pinned } : {}),
        },
        secrets,
      },
      { clock: systemClock, saveSecrets: async (s) => void saved.push(s) },
      { pacer: { maxRetries: 0 } },
    );
  }

  it('should pin the host key on first connect and refuse a changed key with a FatalError', async () => {
    const saved: ConnectorSecrets[] = [];
    const first = connector({ password: server.password }, saved);
    await first.write('pin.txt', Readable.from([Buffer.from('pinned')]), { size: 6 });
    await first.close();
    expect(saved).toEqual([{ hostKeyFingerprint: server.hostKeyFingerprint }]);

    // The account as stored now: the pinned fingerprint comes back from the vault.
    const again = connector({ password: server.password, ...saved[0] }, []);
    expect((await buffer(await again.read('pin.txt'))).toString()).toBe('pinned');
    await again.close();

    const old = server.hostKeyFingerprint;
    const rotated = await server.rotateHostKey();
    expect(rotated).not.toBe(old);
    const afterChange = connector({ password: server.password, ...saved[0] }, []);
    const err = await afterChange.stat('pin.txt').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toContain('host key');
    expect((err as Error).message).toContain(old);
    expect((err as Error).message).toContain(rotated);
    await afterChange.close();
  });

  it('should refuse a configured fingerprint that does not match', async () => {
    const c = connector({ password: server.password }, [], `SHA256:${'A'.repeat(43)}`);
    await expect(c.stat('')).rejects.toBeInstanceOf(FatalError);
    await c.close();
  });

  it('should sign in with an encrypted private key and fail typed with a wrong password', async () => {
    const withKey = connector({ privateKey: server.privateKey, passphrase: server.passphrase }, []);
    expect((await withKey.stat('')).kind).toBe('folder');
    await withKey.close();
    const wrong = connector({ password: 'not-the-password' }, []);
    await expect(wrong.stat('')).rejects.toBeInstanceOf(AuthExpiredError);
    await wrong.close();
  });
});
