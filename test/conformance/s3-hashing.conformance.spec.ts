/**
 * What a small file costs in hashing on its way to S3 (issue #21): the body is hashed with
 * SHA-256 once in the connector (that digest goes in the metadata AND signs the request as its
 * payload hash), not once in flight, again by the SDK's signer for x-amz-content-sha256, and the
 * integrity checks stay: Content-MD5 on the PUT, and a payload hash S3 checks.
 *
 * `createHash` is wrapped on the CommonJS crypto object before anything that hashes is loaded
 * (the SDK calls it through that object; no static import of node:crypto in this file, so the
 * engine's own modules see the wrapper too). Bodies over 1 MiB (photos) carry the signed payload
 * hash only, unless the account asks for Content-MD5 too.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { systemClock } from '../../src/common/clock.js';
import { startS3Server } from '../servers/s3rver.server.js';

const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
const originalCreateHash = crypto.createHash;
let sha256Bytes = 0;
(crypto as { createHash: unknown }).createHash = (
  algorithm: string,
  options?: Parameters<typeof originalCreateHash>[1],
) => {
  const h = originalCreateHash(algorithm, options);
  if (algorithm.toLowerCase() !== 'sha256') return h;
  const update = h.update.bind(h) as (data: unknown, enc?: unknown) => unknown;
  (h as { update: unknown }).update = (data: string | Buffer, enc?: unknown) => {
    sha256Bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    update(data, enc);
    return h;
  };
  return h;
};
const { createS3Connector } = await import('../../src/connectors/s3/s3.factory.js');

describe('s3 hashing per small file (issue #21)', () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  const headers: Array<Record<string, unknown>> = [];
  const onRequest = (msg: unknown) => {
    const req = (msg as { request: { getHeaders(): Record<string, unknown> } }).request;
    headers.push(req.getHeaders());
  };
  beforeAll(async () => {
    server = await startS3Server();
    subscribe('http.client.request.start', onRequest);
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', onRequest);
    await server.stop();
  });

  it('should hash a small body with SHA-256 once, and sign the PUT with that digest and Content-MD5', async () => {
    const c = createS3Connector(
      { config: { ...server.accountOptions }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    const body = originalCreateHash('sha512').update('seed').digest(); // 64 bytes
    const data = Buffer.concat(Array.from({ length: 500 }, () => body)); // 32,000 bytes
    const sha = originalCreateHash('sha256').update(data).digest('hex');
    await c.write('run/d1/warm.bin', Readable.from([data]), { size: data.length });
    sha256Bytes = 0;
    headers.length = 0;
    const entry = await c.write('run/d1/a.bin', Readable.from([data]), { size: data.length });
    // Signing strings and keys are a few hundred bytes; the body once is 32,000.
    expect(sha256Bytes).toBeGreaterThanOrEqual(data.length);
    expect(sha256Bytes).toBeLessThan(2 * data.length);
    expect(entry.hashes.sha256).toBe(sha);
    const put = headers.find((h) => h['content-md5'] !== undefined)!;
    expect(put['x-amz-content-sha256']).toBe(sha);
    expect(put['content-md5']).toBe(originalCreateHash('md5').update(data).digest('base64'));
    await c.close?.();
  });

  it.each([
    ['a small body (one direct PUT)', 32_000],
    ['a photo (one direct PUT)', 3 * 1024 * 1024],
  ])(
    'should not hash %s with SHA-256 again when the caller gives its digest (WriteMeta.digests)',
    async (_what, size) => {
      const c = createS3Connector(
        { config: { ...server.accountOptions }, secrets: {} },
        { clock: systemClock, saveSecrets: async () => undefined },
      );
      const data = Buffer.alloc(size, 7);
      const sha = originalCreateHash('sha256').update(data).digest('hex');
      await c.write('run/d2/warm.bin', Readable.from([data]), { size: data.length });
      sha256Bytes = 0;
      headers.length = 0;
      let ended = false;
      const body = Readable.from([data]).once('end', () => (ended = true));
      const entry = await c.write('run/d2/b.bin', body, {
        size: data.length,
        // As the transfer core does: known only once the body ended.
        digests: () => (ended ? { sha256: sha } : undefined),
      });
      // Only the signature's own strings and keys: a few hundred bytes.
      expect(sha256Bytes).toBeLessThan(4096);
      expect(entry.hashes.sha256).toBe(sha);
      const put = headers.find((h) => h['x-amz-content-sha256'] === sha)!;
      // S3 checks the body against the signed payload hash; a photo carries no Content-MD5
      // (an MD5 of every byte, 8 ms per 5 MiB, for a check S3 already makes).
      if (size <= 1024 * 1024)
        expect(put['content-md5']).toBe(originalCreateHash('md5').update(data).digest('base64'));
      else expect(put['content-md5']).toBeUndefined();
      await c.close?.();
    },
  );

  it('should send Content-MD5 with a photo too when the account asks for it (contentMd5)', async () => {
    const c = createS3Connector(
      { config: { ...server.accountOptions, contentMd5: true }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    const data = Buffer.alloc(3 * 1024 * 1024, 9);
    const sha = originalCreateHash('sha256').update(data).digest('hex');
    headers.length = 0;
    const entry = await c.write('run/d4/photo.bin', Readable.from([data]), { size: data.length });
    const md5 = originalCreateHash('md5').update(data).digest();
    expect(entry.hashes.md5).toBe(md5.toString('hex'));
    const put = headers.find((h) => h['x-amz-content-sha256'] === sha)!;
    expect(put['content-md5']).toBe(md5.toString('base64'));
    await c.close?.();
  });

  it("should record the caller's SHA-256 of a multipart body without hashing it in flight", async () => {
    const MiB = 1024 * 1024;
    const c = createS3Connector(
      { config: { ...server.accountOptions, partSize: 5 * MiB, queueSize: 1 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    const data = Buffer.alloc(11 * MiB, 3); // over (queueSize + 1) parts: multipart
    const sha = originalCreateHash('sha256').update(data).digest('hex');
    sha256Bytes = 0;
    let ended = false;
    const body = Readable.from([data.subarray(0, 6 * MiB), data.subarray(6 * MiB)]).once(
      'end',
      () => (ended = true),
    );
    const entry = await c.write('run/d3/large.bin', body, {
      size: data.length,
      digests: () => (ended ? { sha256: sha } : undefined),
    });
    // The SDK's signer still hashes each part for its payload hash (one pass); the connector's
    // own in-flight SHA-256 (a second pass over every byte) is gone.
    expect(sha256Bytes).toBeGreaterThanOrEqual(data.length);
    expect(sha256Bytes).toBeLessThan(1.1 * data.length);
    expect(entry.size).toBe(data.length);
    expect(entry.hashes.sha256).toBe(sha);
    await c.close?.();
  });
});
