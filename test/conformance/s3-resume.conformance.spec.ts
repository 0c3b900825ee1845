/**
 * S3 multipart uploads continued across attempts (issue 18, item 6), against s3rver (with the
 * ListParts / AbortMultipartUpload / NoSuchUpload handlers of test/servers/s3rver-multipart.ts,
 * which s3rver 3.7.1 lacks). The requests are counted on the wire (diagnostics_channel): a
 * continued upload sends only the parts S3 does not hold already.
 */
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { systemClock } from '../../src/common/clock.js';
import type { Connector, UploadSessionHooks } from '../../src/connectors/connector.js';
import { createS3Connector } from '../../src/connectors/s3/s3.factory.js';
import { patternBytes } from '../support/files.js';
import { startS3Server, type S3Server } from '../servers/s3rver.server.js';

const PART = 5 * 1024 * 1024;
const SIZE = 5 * PART + 12_345; // six parts
const DATA = patternBytes(SIZE, 11);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Yields the first `n` bytes, then waits for ever: an upload stopped half-way, as by a kill. */
function stalledAfter(n: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(DATA.subarray(0, n));
      }
    },
  });
}

function recorder(resume?: string): UploadSessionHooks & { seen: Array<[string, number]> } {
  const seen: Array<[string, number]> = [];
  return {
    resume,
    seen,
    onConfirmed: (locator, confirmed) => void seen.push([locator, confirmed]),
  };
}

describe('s3 multipart uploads continued from the parts S3 holds (WriteMeta.session)', () => {
  let server: S3Server;
  let c: Connector;
  /** 'METHOD path?query' of every request to s3rver. */
  const requests: string[] = [];
  const onRequest = (msg: unknown) => {
    const req = (msg as { request: { method: string; path: string } }).request;
    requests.push(`${req.method} ${req.path}`);
  };
  const count = (re: RegExp) => requests.filter((r) => re.test(r)).length;
  const UPLOAD_PART = /^PUT .*[?&]partNumber=/;

  beforeAll(async () => {
    server = await startS3Server();
    c = createS3Connector(
      { config: { ...server.accountOptions, partSize: PART, queueSize: 1 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    subscribe('http.client.request.start', onRequest);
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', onRequest);
    await c?.close?.();
    await server?.stop();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  /**
   * The uploads s3rver knows (a folder with its 'key' file: a part whose request was already
   * on its way when the upload was aborted may re-create a bare folder).
   */
  async function openUploads(): Promise<string[]> {
    const uploads = join(server.directory, server.bucket, '._S3rver_uploads');
    const ids = await readdir(uploads).catch(() => [] as string[]);
    const open: string[] = [];
    for (const id of ids) if ((await readdir(join(uploads, id))).includes('key')) open.push(id);
    return open.sort();
  }

  async function readAll(path: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const p of await c.read(path)) parts.push(p as Buffer);
    return Buffer.concat(parts);
  }

  /** Starts an upload of DATA that stops after `n` bytes; resolves when 3 parts are confirmed. */
  async function interrupted(path: string, n: number) {
    const first = recorder();
    const body = stalledAfter(n);
    const abandoned = c.write(path, body, { size: SIZE, session: first }).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (!first.seen.some(([, b]) => b >= 3 * PART)) {
      if (Date.now() > deadline)
        throw new Error(`no confirmed parts: ${JSON.stringify(first.seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const [locator] = first.seen[first.seen.length - 1]!;
    return {
      locator,
      first,
      end: async () => {
        body.destroy(new Error('the killed attempt'));
        await abandoned;
      },
    };
  }

  it('should report the upload and the bytes of the leading parts S3 acknowledged', async () => {
    const hooks = recorder();
    await c.write('big/report.bin', Readable.from([DATA]), { size: SIZE, session: hooks });

    const locator = JSON.parse(hooks.seen[0]![0]) as Record<string, string>;
    expect(locator).toEqual({
      bucket: server.bucket,
      key: 'big/report.bin',
      uploadId: expect.any(String),
    });
    expect(hooks.seen.map(([, n]) => n)).toEqual([
      0,
      PART,
      2 * PART,
      3 * PART,
      4 * PART,
      5 * PART,
      SIZE,
    ]);
  });

  it('should send only the parts S3 does not hold when continuing an interrupted upload', async () => {
    const killed = await interrupted('big/resume.bin', 3 * PART + 100);
    requests.length = 0;

    const second = recorder(killed.locator);
    const stored = await c.write('big/resume.bin', Readable.from([DATA]), {
      size: SIZE,
      session: second,
    });

    expect(second.seen[0]).toEqual([killed.locator, 3 * PART]);
    expect(second.seen.every(([l]) => l === killed.locator)).toBe(true);
    expect(second.seen[second.seen.length - 1]).toEqual([killed.locator, SIZE]);
    expect(count(/^GET .*[?&]uploadId=/)).toBe(1); // ListParts
    expect(count(/^POST .*[?&]uploads/)).toBe(0); // no new CreateMultipartUpload
    expect(count(UPLOAD_PART)).toBe(3); // parts 4, 5, 6
    expect(
      requests.filter((r) => UPLOAD_PART.test(r)).map((r) => /partNumber=(\d+)/.exec(r)![1]),
    ).toEqual(['4', '5', '6']);
    expect(stored.size).toBe(SIZE);
    expect(stored.hashes.sha256).toBe(sha256(DATA));
    expect(sha256(await readAll('big/resume.bin'))).toBe(sha256(DATA));
    await killed.end();
  });

  it('should send again, from the first part whose bytes differ, the parts S3 holds of other bytes', async () => {
    const killed = await interrupted('big/changed.bin', 3 * PART + 100);
    requests.length = 0;
    const changed = Buffer.from(DATA);
    changed[PART + 7] ^= 0xff; // part 2 is no longer what S3 holds

    const second = recorder(killed.locator);
    await c.write('big/changed.bin', Readable.from([changed]), { size: SIZE, session: second });

    expect(count(UPLOAD_PART)).toBe(5); // parts 2 to 6
    expect(sha256(await readAll('big/changed.bin'))).toBe(sha256(changed));
    await killed.end();
  });

  it('should start a fresh upload when S3 no longer knows the upload (NoSuchUpload)', async () => {
    const unknown = JSON.stringify({
      bucket: server.bucket,
      key: 'big/fresh.bin',
      uploadId: 'no-such-upload',
    });
    const hooks = recorder(unknown);

    const stored = await c.write('big/fresh.bin', Readable.from([DATA]), {
      size: SIZE,
      session: hooks,
    });

    expect(hooks.seen[0]![0]).not.toBe(unknown);
    expect(hooks.seen[0]![1]).toBe(0);
    expect(count(UPLOAD_PART)).toBe(6);
    expect(stored.size).toBe(SIZE);
    expect(sha256(await readAll('big/fresh.bin'))).toBe(sha256(DATA));
  });

  it('should abort an upload that was opened for another key, and start a fresh one', async () => {
    const killed = await interrupted('big/elsewhere.bin', 3 * PART + 100);
    const { uploadId } = JSON.parse(killed.locator) as { uploadId: string };
    expect(await openUploads()).toContain(uploadId);

    const hooks = recorder(killed.locator);
    await c.write('big/moved.bin', Readable.from([DATA]), { size: SIZE, session: hooks });

    expect(await openUploads()).not.toContain(uploadId);
    expect(hooks.seen[0]![1]).toBe(0);
    expect(count(/^DELETE .*[?&]uploadId=/)).toBe(1);
    expect(sha256(await readAll('big/moved.bin'))).toBe(sha256(DATA));
    await killed.end();
  });

  it('should abort the multipart upload on a failure when no attempt records it', async () => {
    const body = stalledAfter(3 * PART + 100);
    const stop = new AbortController();
    const before = await openUploads();
    const stopped = c
      .write('big/plain.bin', body, { size: SIZE, signal: stop.signal })
      .catch(() => 'stopped');
    while (count(UPLOAD_PART) < 3) await new Promise((r) => setTimeout(r, 5));
    stop.abort(new Error('cancelled'));
    body.destroy(new Error('cancelled'));
    expect(await stopped).toBe('stopped');
    expect(await openUploads()).toEqual(before);
  });
});

describe('s3 discardUploadSession', () => {
  let server: S3Server;
  let c: Connector & { discardUploadSession(locator: string): Promise<void> };

  beforeAll(async () => {
    server = await startS3Server();
    c = createS3Connector(
      { config: { ...server.accountOptions, partSize: PART, queueSize: 1 }, secrets: {} },
      { clock: systemClock, saveSecrets: async () => undefined },
    ) as typeof c;
  });
  afterAll(async () => {
    await c?.close?.();
    await server?.stop();
  });

  it('should abort the multipart upload a locator names (a file that changed or is gone)', async () => {
    const first = recorder();
    const body = stalledAfter(2 * PART + 100);
    const abandoned = c.write('big/gone.bin', body, { size: SIZE, session: first }).catch(() => 0);
    while (!first.seen.some(([, b]) => b >= 2 * PART)) await new Promise((r) => setTimeout(r, 5));
    const [locator] = first.seen[0]!;
    const { uploadId } = JSON.parse(locator) as { uploadId: string };
    const uploads = join(server.directory, server.bucket, '._S3rver_uploads');
    const held = async () =>
      (await readdir(join(uploads, uploadId)).catch(() => [] as string[])).includes('key');
    expect(await held()).toBe(true);

    await c.discardUploadSession(locator);

    expect(await held()).toBe(false);
    await c.discardUploadSession(locator); // already gone: no error
    await c.discardUploadSession('not a locator');
    body.destroy(new Error('the killed attempt'));
    await abandoned;
  });
});
