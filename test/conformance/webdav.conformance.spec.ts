import { systemClock } from '../../src/common/clock.js';
import { createWebDavConnector } from '../../src/connectors/webdav/webdav.factory.js';
import { startWebDavServer, type WebDavServer } from '../servers/apache-webdav.server.js';
import { describeConnectorConformance } from './connector-conformance.js';

const unsupported = {
  changeFeed: 'WebDAV has no change feed',
  serverSideCopy: 'COPY is not wired into the connector yet',
  faults:
    'Apache httpd is a real server: it cannot be told to answer 429 or expire a password on demand; error mapping has unit specs',
};

for (const auth of ['basic', 'digest'] as const) {
  let server: WebDavServer;
  describeConnectorConformance(`webdav (${auth} auth, Apache mod_dav)`, {
    create: async () => {
      server = await startWebDavServer();
      const user = server[auth];
      const connector = createWebDavConnector(
        {
          config: {
            url: auth === 'basic' ? server.basicUrl : server.digestUrl,
            username: user.username,
            authType: auth,
          },
          secrets: { password: user.password },
        },
        { clock: systemClock, saveSecrets: async () => undefined },
      );
      return { connector, cleanup: () => server.stop() };
    },
    unsupported,
    limits: { uploadChunkSize: 256 * 1024, listPageSize: 40 },
  });
}
