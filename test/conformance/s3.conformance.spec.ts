import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { IsADirectoryError } from '../../src/connectors/connector.errors.js';
import { createS3Connector } from '../../src/connectors/s3/s3.factory.js';
import { startS3Server } from '../servers/s3rver.server.js';
import { describeConnectorConformance } from './connector-conformance.js';
import { systemClock } from '../../src/common/clock.js';

const MiB = 1024 * 1024;

describeConnectorConformance('s3', {
  create: async () => {
    const server = await startS3Server();
    const connector = createS3Connector(
      { config: { ...server.accountOptions, partSize: 5 * MiB, listPageSize: 25 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    return { connector, cleanup: () => server.stop() };
  },
  unsupported: {
    changeFeed: 'S3 has no change feed (bucket notifications need a queue service)',
    serverSideCopy: 'CopyObject is not wired into the connector yet',
    faults:
      's3rver is a real S3 server: it cannot be told to answer 429 or expire a key on demand; error mapping has unit specs',
  },
  limits: { uploadChunkSize: 5 * MiB, listPageSize: 25 },
});

describe('s3 requests per file (issue #21)', () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  const sent: string[] = [];
  const onRequest = (msg: unknown) => {
    const req = (msg as { request: { method: string; path: string } }).request;
    sent.push(`${req.method} ${req.path.includes('list-type=2') ? 'LIST' : ''}`.trim());
  };

  beforeAll(async () => {
    server = await startS3Server();
    subscribe('http.client.request.start', onRequest);
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', onRequest);
    await server.stop();
  });

  it('should send one PUT per file of known size up to (queueSize + 1) parts, after one listing of its folder', async () => {
    const c = createS3Connector(
      { config: { ...server.accountOptions, partSize: 5 * MiB, queueSize: 2 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    const small = randomBytes(20_000);
    const photo = randomBytes(7 * MiB); // over one part: was multipart + a server-side copy
    await c.write('run/d1/warm.bin', Readable.from([small]), { size: small.length });
    sent.length = 0;
    const a = await c.write('run/d1/a.bin', Readable.from([small]), { size: small.length });
    const b = await c.write('run/d1/b.jpg', Readable.from([photo]), { size: photo.length });
    expect(sent).toEqual(['PUT', 'PUT']);
    expect(a.size).toBe(small.length);
    expect(b.hashes.sha256).toBe(createHash('sha256').update(photo).digest('hex'));
    expect(b.hashes.md5).toBe(createHash('md5').update(photo).digest('hex'));
    // What the write reported is what S3 holds.
    expect((await c.stat('run/d1/b.jpg')).hashes).toEqual(b.hashes);
    await c.close?.();
  });

  it('should still refuse a file over a folder when the folder is in the cached listing', async () => {
    const c = createS3Connector(
      { config: { ...server.accountOptions }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    await c.mkdir('run2/sub');
    await expect(
      c.write('run2/sub', Readable.from([Buffer.from('x')]), { size: 1 }),
    ).rejects.toBeInstanceOf(IsADirectoryError);
    await c.close?.();
  });
});
