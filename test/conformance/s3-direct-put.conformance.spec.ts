/**
 * A single PutObject (a small file or a photo) leaves without the AWS SDK's middleware stack (issue #21:
 * s3.direct-put.ts): signed by the SDK's own SigV4 signer, sent with Node's http. What S3
 * checks must be the same (s3rver verifies the signature and Content-MD5), and so must what the
 * engine sees when it fails: the typed errors of s3.errors.ts, the pacer's retries, an abort.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { systemClock } from '../../src/common/clock.js';
import {
  AuthExpiredError,
  FatalError,
  QuotaExceededError,
  RateLimitedError,
} from '../../src/connectors/connector.errors.js';
import { createS3Connector } from '../../src/connectors/s3/s3.factory.js';
import { startS3Server } from '../servers/s3rver.server.js';

const ctx = { clock: systemClock, saveSecrets: async () => undefined };
const fastPacer = { backoff: { initialMs: 1, maxMs: 5, factor: 1, jitter: 0 }, maxRetries: 3 };

async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('s3 direct PutObject against s3rver (issue #21)', () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('should store small bodies under odd names that read back byte for byte', async () => {
    const c = createS3Connector({ config: { ...server.accountOptions }, secrets: {} }, ctx);
    try {
      const names = ["a b+c&d=e'(f)*!.bin", 'ünïcødé/日本語 ファイル.txt', 'x%20y;z,@$.bin'];
      for (const [i, name] of names.entries()) {
        const body = randomBytes(1000 + i);
        const entry = await c.write(`direct/${name}`, Readable.from([body]), {
          size: body.length,
        });
        expect(entry.hashes.md5).toBe(createHash('md5').update(body).digest('hex'));
        expect((await drain(await c.read(`direct/${name}`))).equals(body)).toBe(true);
      }
    } finally {
      await c.close?.();
    }
  });

  it('should store photos sent in odd-sized chunks across many blocks, read back byte for byte', async () => {
    const c = createS3Connector({ config: { ...server.accountOptions }, secrets: {} }, ctx);
    try {
      const writes = [3 * 1024 * 1024 + 17, 5 * 1024 * 1024 + 1, 2 * 1024 * 1024].map(
        async (size, i) => {
          const body = randomBytes(size);
          const chunks: Buffer[] = [];
          for (let at = 0; at < size; at += 100_003) chunks.push(body.subarray(at, at + 100_003));
          const sha = createHash('sha256').update(body).digest('hex');
          const entry = await c.write(`photos/p${i}.jpg`, Readable.from(chunks), {
            size,
            digests: () => ({ sha256: sha }),
          });
          expect(entry.size).toBe(size);
          expect(entry.hashes.sha256).toBe(sha);
          expect((await drain(await c.read(`photos/p${i}.jpg`))).equals(body)).toBe(true);
        },
      );
      await Promise.all(writes);
    } finally {
      await c.close?.();
    }
  });

  it('should send nothing when the body is shorter than announced: the object there stays whole', async () => {
    const c = createS3Connector({ config: { ...server.accountOptions }, secrets: {} }, ctx);
    try {
      const before = randomBytes(2 * 1024 * 1024);
      await c.write('short/p.jpg', Readable.from([before]), { size: before.length });
      await expect(
        c.write('short/p.jpg', Readable.from([randomBytes(1024 * 1024)]), {
          size: before.length,
        }),
      ).rejects.toThrow(/shorter than/);
      expect((await drain(await c.read('short/p.jpg'))).equals(before)).toBe(true);
    } finally {
      await c.close?.();
    }
  });
});

/** An S3 stand-in whose PUT answers are scripted; LISTs answer an empty folder. */
class ScriptedS3 {
  readonly puts: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];
  private readonly server: Server;
  constructor(private readonly answerPut: (n: number, body: Buffer, res: ServerResponse) => void) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') {
          const body = Buffer.concat(chunks);
          this.puts.push({ headers: req.headers, body });
          this.answerPut(this.puts.length, body, res);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>',
        );
      });
    });
  }
  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

function s3Error(res: ServerResponse, status: number, code: string, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers });
  res.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`);
}

function connectorFor(endpoint: string) {
  return createS3Connector(
    {
      config: {
        endpoint,
        bucket: 'b',
        region: 'us-east-1',
        accessKeyId: 'k',
        secretAccessKey: 's',
        forcePathStyle: true,
      },
      secrets: {},
    },
    ctx,
    { pacer: fastPacer },
  );
}

describe('s3 direct PutObject: answers S3 gives under stress (issue #21)', () => {
  it('should retry a PUT answered 503 SlowDown, with the same body and digests, until it succeeds', async () => {
    const fake = new ScriptedS3((n, body, res) => {
      if (n === 1) return s3Error(res, 503, 'SlowDown', { 'retry-after': '0' });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      res.end();
    });
    const c = connectorFor(await fake.start());
    try {
      const body = randomBytes(5000);
      const entry = await c.write('d/a.bin', Readable.from([body]), { size: body.length });
      expect(entry.size).toBe(5000);
      expect(fake.puts).toHaveLength(2);
      for (const put of fake.puts) {
        expect(put.body.equals(body)).toBe(true);
        expect(put.headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
        expect(put.headers['x-amz-content-sha256']).toBe(
          createHash('sha256').update(body).digest('hex'),
        );
        expect(put.headers['x-amz-meta-cbe-sha256']).toBe(
          createHash('sha256').update(body).digest('hex'),
        );
        expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=k\//);
      }
    } finally {
      await c.close?.();
      await fake.stop();
    }
  });

  it('should fail with RateLimitedError when S3 keeps asking to slow down', async () => {
    const fake = new ScriptedS3((_n, _b, res) => s3Error(res, 503, 'SlowDown'));
    const c = connectorFor(await fake.start());
    try {
      await expect(
        c.write('d/a.bin', Readable.from([Buffer.alloc(100)]), { size: 100 }),
      ).rejects.toBeInstanceOf(RateLimitedError);
      expect(fake.puts).toHaveLength(4); // the first try and the pacer's 3 retries
    } finally {
      await c.close?.();
      await fake.stop();
    }
  });

  it.each([
    [403, 'SignatureDoesNotMatch', AuthExpiredError],
    [403, 'QuotaExceeded', QuotaExceededError],
    [403, 'AccessDenied', FatalError],
    [404, 'NoSuchBucket', FatalError],
  ])(
    'should map a %d %s answer to the typed error of s3.errors.ts, without retrying',
    async (status, code, type) => {
      const fake = new ScriptedS3((_n, _b, res) => s3Error(res, status, code));
      const c = connectorFor(await fake.start());
      try {
        await expect(
          c.write('d/a.bin', Readable.from([Buffer.alloc(100)]), { size: 100 }),
        ).rejects.toBeInstanceOf(type);
        expect(fake.puts).toHaveLength(1);
      } finally {
        await c.close?.();
        await fake.stop();
      }
    },
  );

  it('should retry a 500 answer without a body and a connection cut before the answer', async () => {
    const fake = new ScriptedS3((n, body, res) => {
      if (n === 1) {
        res.writeHead(500);
        res.end();
        return;
      }
      if (n === 2) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      res.end();
    });
    const c = connectorFor(await fake.start());
    try {
      const entry = await c.write('d/a.bin', Readable.from([Buffer.alloc(100, 1)]), { size: 100 });
      expect(entry.size).toBe(100);
      expect(fake.puts).toHaveLength(3);
    } finally {
      await c.close?.();
      await fake.stop();
    }
  });

  it('should send a photo with Expect: 100-continue and its SHA-256 as the signed payload hash, and again whole after a 503', async () => {
    const fake = new ScriptedS3((n, body, res) => {
      if (n === 1) return s3Error(res, 503, 'SlowDown', { 'retry-after': '0' });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      res.end();
    });
    const c = connectorFor(await fake.start());
    try {
      const body = randomBytes(3 * 1024 * 1024 + 5);
      const sha = createHash('sha256').update(body).digest('hex');
      const entry = await c.write('d/photo.jpg', Readable.from([body]), {
        size: body.length,
        digests: () => ({ sha256: sha }),
      });
      expect(entry.size).toBe(body.length);
      expect(fake.puts).toHaveLength(2);
      for (const put of fake.puts) {
        expect(put.body.equals(body)).toBe(true);
        expect(put.headers.expect).toBe('100-continue');
        expect(put.headers['x-amz-content-sha256']).toBe(sha);
        expect(put.headers['content-md5']).toBeUndefined();
        expect(put.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
      }
    } finally {
      await c.close?.();
      await fake.stop();
    }
  });

  it('should read a refusal S3 answers before "100 Continue" as its typed error, the photo never sent', async () => {
    let bodyBytes = 0;
    const server = createServer((req, res) => {
      req.on('data', (c: Buffer) => (bodyBytes += c.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>',
        );
      });
    });
    server.on('checkContinue', (_req: IncomingMessage, res: ServerResponse) =>
      s3Error(res, 403, 'AccessDenied'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = connectorFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const body = randomBytes(2 * 1024 * 1024);
      await expect(
        c.write('d/photo.jpg', Readable.from([body]), { size: body.length }),
      ).rejects.toBeInstanceOf(FatalError);
      expect(bodyBytes).toBe(0);
    } finally {
      await c.close?.();
      server.closeAllConnections();
      server.close();
    }
  });

  it('should reject at once when the write is aborted while S3 has not answered', async () => {
    let answer: (() => void) | undefined;
    const fake = new ScriptedS3((_n, _b, res) => {
      answer = () => {
        res.writeHead(200, { etag: '"0"' });
        res.end();
      };
    });
    const c = connectorFor(await fake.start());
    try {
      const ac = new AbortController();
      const writing = c.write('d/a.bin', Readable.from([Buffer.alloc(100)]), {
        size: 100,
        signal: ac.signal,
      });
      while (fake.puts.length === 0) await new Promise((r) => setTimeout(r, 5));
      ac.abort(new Error('cancelled by the test'));
      await expect(writing).rejects.toThrow();
      answer?.();
    } finally {
      await c.close?.();
      await fake.stop();
    }
  });
});
