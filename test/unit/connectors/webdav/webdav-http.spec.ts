import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { TransientError } from '../../../../src/connectors/connector.errors.js';
import { mapWebDavError } from '../../../../src/connectors/webdav/webdav.errors.js';
import { DavHttp } from '../../../../src/connectors/webdav/webdav.http.js';

/**
 * PUT and MOVE go through Node's http client (issue #21). A connection the server breaks must
 * come out as a transient error, retried like the webdav package's (node-fetch marks every such
 * failure as a 'system' error), never as a refusal that skips the file at once: a loaded peer
 * benchmark skipped one large WebDAV file in about a second, with no retry.
 */
describe('DavHttp', () => {
  let server: Server;
  let base: string;
  let mode: 'destroy-mid-body' | 'garbage-answer';

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (mode === 'destroy-mid-body') {
        req.once('data', () => req.socket.destroy());
        return;
      }
      req.socket.end('NOT HTTP AT ALL\r\n\r\n');
      res.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dav/`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(['destroy-mid-body', 'garbage-answer'] as const)(
    'should report a connection the server breaks (%s) as transient',
    async (m) => {
      mode = m;
      const http = new DavHttp(base, 'Basic dTpw');
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, i);
        })(),
      );

      const error = await http.send('PUT', 'a.bin', { body }).then(
        () => undefined,
        (e: unknown) => e,
      );
      http.close();

      expect(error).toBeDefined();
      expect(mapWebDavError(error, 'a.bin')).toBeInstanceOf(TransientError);
    },
  );
});
