/**
 * The SDK's CPU per small PUT (issue #21): @aws-sdk/client-s3 v3 resolves a command's middleware
 * stack on every send (clone the client's stack, concatenate the command's, sort by step and
 * relation, build the handler chain), and even with it cached (`cacheMiddleware`) spent ~1 ms of
 * CPU per request (endpoint rules, serde, a new signer per request). A small single PutObject now
 * leaves without the stack (s3.direct-put.ts: the SDK's own signer, Node's http), and S3 still
 * checks what it receives: Content-MD5 and the signed payload hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { jest } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { systemClock } from '../../src/common/clock.js';
import { createS3Connector } from '../../src/connectors/s3/s3.factory.js';
import { startS3Server } from '../servers/s3rver.server.js';

const MiB = 1024 * 1024;

describe('s3 SDK work per small PUT (issue #21)', () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  const puts: Array<Record<string, unknown>> = [];
  const onRequest = (msg: unknown) => {
    const req = (msg as { request: { method: string; getHeaders(): Record<string, unknown> } })
      .request;
    if (req.method === 'PUT') puts.push(req.getHeaders());
  };
  beforeAll(async () => {
    server = await startS3Server();
    subscribe('http.client.request.start', onRequest);
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', onRequest);
    await server.stop();
  });

  const connector = () =>
    createS3Connector(
      { config: { ...server.accountOptions, partSize: 5 * MiB }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );

  it('should send many small PUTs without resolving the SDK middleware stack', async () => {
    const c = connector();
    const resolve = jest.spyOn(PutObjectCommand.prototype, 'resolveMiddleware');
    try {
      const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(4096 + i * 1000));
      puts.length = 0;
      await Promise.all(
        bodies.map((b, i) => c.write(`cost/d1/f${i}.bin`, Readable.from([b]), { size: b.length })),
      );
      expect(puts).toHaveLength(20);
      expect(resolve).not.toHaveBeenCalled();
      // Each PUT still carries its own body's digests, which S3 checks.
      for (const b of bodies) {
        const md5 = createHash('md5').update(b).digest('base64');
        const put = puts.find((h) => h['content-md5'] === md5);
        expect(put?.['x-amz-content-sha256']).toBe(createHash('sha256').update(b).digest('hex'));
      }
      for (const [i, b] of bodies.entries()) {
        const back = await c.read(`cost/d1/f${i}.bin`);
        const chunks: Buffer[] = [];
        for await (const chunk of back) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(b)).toBe(true);
      }
    } finally {
      resolve.mockRestore();
      await c.close?.();
    }
  });

  it('should list a new folder once when many files are written into it at once', async () => {
    const c = connector();
    const lists: string[] = [];
    const onList = (msg: unknown) => {
      const req = (msg as { request: { method: string; path: string } }).request;
      if (req.method === 'GET' && req.path.includes('list-type=2')) lists.push(req.path);
    };
    subscribe('http.client.request.start', onList);
    try {
      // The transfer pool runs up to 16 small files at once, most of them in the same folder.
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          c.write(`cost/d3/f${i}.bin`, Readable.from([Buffer.alloc(1000, i)]), { size: 1000 }),
        ),
      );
      expect(lists).toHaveLength(1);
    } finally {
      unsubscribe('http.client.request.start', onList);
      await c.close?.();
    }
  });

  it('should stop waiting for a small PUT when the write is aborted', async () => {
    const c = connector();
    try {
      const body = randomBytes(10_000);
      const ac = new AbortController();
      ac.abort(new Error('cancelled by the test'));
      await expect(
        c.write('cost/d2/aborted.bin', Readable.from([body]), {
          size: body.length,
          signal: ac.signal,
        }),
      ).rejects.toThrow();
    } finally {
      await c.close?.();
    }
  });
});
