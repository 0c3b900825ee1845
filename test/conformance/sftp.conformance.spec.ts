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
