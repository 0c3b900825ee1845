import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  AuthExpiredError,
  CursorExpiredError,
  IntegrityError,
  NotFoundError,
  QuotaExceededError,
} from '../../../../src/connectors/connector.errors.js';
import { createDropboxForTest, type DropboxForTest } from '../../../support/connectors/dropbox.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
  type RequestLogEntry,
} from '../../../../emulators/dropbox/dropbox-emulator.js';

const CHUNK = 256 * 1024;

function bytesOf(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function streamOf(data: Buffer, piece = 50_000): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  }
  return Readable.from(gen());
}

function calls(log: RequestLogEntry[], route: string): RequestLogEntry[] {
  return log.filter((e) => e.route === route);
}

function cursorOffset(e: RequestLogEntry): number {
  return (e.arg as { cursor: { offset: number } }).cursor.offset;
}

describe('DropboxConnector against the emulator, with faults', () => {
  let emu: DropboxEmulator;
  let t: DropboxForTest;

  beforeEach(async () => {
    emu = await startDropboxEmulator();
    t = createDropboxForTest(emu, { config: { uploadChunkSize: CHUNK } });
  });

  afterEach(async () => {
    await emu.stop();
  });

  describe('downloads', () => {
    it('should resume with Range at the byte where the connection broke when a download is cut mid-body', async () => {
      const data = bytesOf(300_000, 1);
      await emu.seedFile('/big.bin', data);
      emu.clearRequestLog();
      emu.control.cutNextDownload(100_000);

      const got = await buffer(await t.connector.read('big.bin'));

      expect(sha(got)).toBe(sha(data));
      const downloads = calls(emu.requestLog, 'files/download');
      expect(downloads).toHaveLength(2);
      expect(downloads[0]!.cut).toBe(true);
      expect(downloads[0]!.range).toBeUndefined();
      const rev = emu.metadata('/big.bin')!.rev as string;
      expect(downloads[1]).toMatchObject({
        status: 206,
        range: 'bytes=100000-299999',
        arg: { path: `rev:${rev}` },
      });
    });

    it('should resume a ranged read inside its range when the connection breaks', async () => {
      const data = bytesOf(200_000, 2);
      await emu.seedFile('/r.bin', data);
      emu.clearRequestLog();
      emu.control.cutNextDownload(30_000);

      const got = await buffer(
        await t.connector.read('r.bin', { range: { offset: 10_000, length: 100_000 } }),
      );

      expect(got.equals(data.subarray(10_000, 110_000))).toBe(true);
      expect(calls(emu.requestLog, 'files/download').map((e) => e.range)).toEqual([
        'bytes=10000-109999',
        'bytes=40000-109999',
      ]);
    });

    it('should error the stream, never end it early, when the download keeps breaking', async () => {
      const data = bytesOf(100_000, 3);
      await emu.seedFile('/flaky.bin', data);
      for (let i = 0; i < 20; i++) emu.control.cutNextDownload(1000);

      const stream = await t.connector.read('flaky.bin');

      await expect(buffer(stream)).rejects.toThrow();
    });

    it('should retry a 503 with Retry-After before the body starts', async () => {
      await emu.seedFile('/a.txt', 'hello');
      emu.control.failNext(503, { route: 'files/download', retryAfterSeconds: 4 });

      const got = await buffer(await t.connector.read('a.txt'));

      expect(got.toString()).toBe('hello');
      expect(t.sleeps).toContain(4000);
    });
  });

  describe('uploads', () => {
    it('should resume at correct_offset and resend only the missing bytes when an append is cut after part of it landed', async () => {
      const data = bytesOf(CHUNK * 3 + 1000, 4);
      emu.control.cutNextUpload(100_000, 60_000, { route: 'files/upload_session/append_v2' });

      const entry = await t.connector.write('up/big.bin', streamOf(data), { size: data.length });

      expect(entry.size).toBe(data.length);
      expect(sha(await emu.readFile('/up/big.bin'))).toBe(sha(data));
      const appends = calls(emu.requestLog, 'files/upload_session/append_v2');
      expect(
        appends.map((e) => [cursorOffset(e), e.bodyBytes ?? e.declaredBytes, e.status ?? 'cut']),
      ).toEqual([
        [0, 100_000, 'cut'], // connection dropped; the server kept 60 000 bytes
        [0, 0, 409], // empty probe: incorrect_offset, correct_offset = 60 000
        [60_000, CHUNK - 60_000, 200], // only the missing part of the chunk
        [CHUNK, CHUNK, 200],
        [2 * CHUNK, CHUNK, 200],
      ]);
      const finish = calls(emu.requestLog, 'files/upload_session/finish');
      expect(finish.map((e) => [cursorOffset(e), e.bodyBytes, e.status])).toEqual([
        [3 * CHUNK, 1000, 200],
      ]);
    });

    it('should resend the whole chunk from memory when a cut append kept nothing', async () => {
      const data = bytesOf(CHUNK * 2 + 10, 5);
      emu.control.cutNextUpload(5000, 0, { route: 'files/upload_session/append_v2' });

      await t.connector.write('zero-kept.bin', streamOf(data));

      expect(sha(await emu.readFile('/zero-kept.bin'))).toBe(sha(data));
      const appends = calls(emu.requestLog, 'files/upload_session/append_v2');
      expect(
        appends.map((e) => [cursorOffset(e), e.bodyBytes ?? e.declaredBytes, e.status ?? 'cut']),
      ).toEqual([
        [0, 5000, 'cut'],
        [0, 0, 200], // probe: the server is still at 0
        [0, CHUNK, 200],
        [CHUNK, CHUNK, 200],
      ]);
    });

    it('should retry the finish call when its connection is cut, committing once', async () => {
      const data = bytesOf(CHUNK + 5000, 6);
      emu.control.cutNextUpload(2000, 0, { route: 'files/upload_session/finish' });

      await t.connector.write('fin.bin', streamOf(data));

      expect(sha(await emu.readFile('/fin.bin'))).toBe(sha(data));
      const finishes = calls(emu.requestLog, 'files/upload_session/finish');
      expect(finishes.map((e) => [cursorOffset(e), e.status ?? 'cut'])).toEqual([
        [CHUNK, 'cut'],
        [CHUNK, 200],
      ]);
    });

    it('should honour Retry-After when Dropbox answers too_many_write_operations', async () => {
      emu.control.rateLimitNext({
        route: 'files/upload',
        reason: 'too_many_write_operations',
        retryAfterSeconds: 2,
      });

      await t.connector.write('w.txt', Readable.from([Buffer.from('write me')]));

      expect((await emu.readFile('/w.txt')).toString()).toBe('write me');
      expect(t.sleeps).toEqual([2000]);
      expect(calls(emu.requestLog, 'files/upload').map((e) => e.status)).toEqual([429, 200]);
    });

    it('should retry an append answered 500 and continue from the same offset', async () => {
      const data = bytesOf(CHUNK * 2 + 1, 7);
      await t.connector.write('warm.txt', Readable.from([Buffer.from('x')])); // token fetched
      emu.clearRequestLog();
      emu.control.failNext(500, { route: 'files/upload_session/append_v2' });

      await t.connector.write('e500.bin', streamOf(data));

      expect(sha(await emu.readFile('/e500.bin'))).toBe(sha(data));
      const appends = calls(emu.requestLog, 'files/upload_session/append_v2');
      expect(appends.map((e) => [cursorOffset(e), e.status])).toEqual([
        [0, 500],
        [0, 200], // probe
        [0, 200],
        [CHUNK, 200],
      ]);
    });

    it('should throw QuotaExceededError without retrying when the account is full', async () => {
      emu.control.setInsufficientSpace(true);

      const err = await t.connector
        .write('full.bin', Readable.from([Buffer.from('data')]))
        .catch((e: unknown) => e);

      expect(err).toBeInstanceOf(QuotaExceededError);
      expect((err as QuotaExceededError).providerCode).toBe('path/insufficient_space');
      expect(calls(emu.requestLog, 'files/upload')).toHaveLength(1);
    });

    it('should throw QuotaExceededError when a session commit finds the account full', async () => {
      emu.control.setQuota(CHUNK);

      await expect(
        t.connector.write('big.bin', streamOf(bytesOf(CHUNK * 2, 8))),
      ).rejects.toBeInstanceOf(QuotaExceededError);
      await expect(t.connector.stat('big.bin')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('should map a 507 answer to QuotaExceededError', async () => {
      emu.control.failNext(507, { route: 'files/upload' });

      await expect(
        t.connector.write('x.bin', Readable.from([Buffer.from('x')])),
      ).rejects.toBeInstanceOf(QuotaExceededError);
    });

    it('should delete the file and throw IntegrityError when the stored content hash differs from the bytes sent', async () => {
      emu.control.corruptNextCommit();

      const err = await t.connector
        .write('bad.bin', streamOf(bytesOf(CHUNK + 10, 9)))
        .catch((e: unknown) => e);

      expect(err).toBeInstanceOf(IntegrityError);
      expect(emu.metadata('/bad.bin')).toBeUndefined();
      expect(calls(emu.requestLog, 'files/delete_v2')).toHaveLength(1);
    });
  });

  describe('tokens', () => {
    it('should refresh once and retry when the access token expired', async () => {
      await t.connector.mkdir('tok');
      const before = emu.control.refreshCount;
      emu.control.expireAccessTokens();
      emu.clearRequestLog();

      await expect(t.connector.stat('tok')).resolves.toMatchObject({ kind: 'folder' });

      expect(emu.control.refreshCount).toBe(before + 1);
      expect(emu.requestLog.map((e) => [e.route, e.status])).toEqual([
        ['files/get_metadata', 401],
        ['/oauth2/token', 200],
        ['files/get_metadata', 200],
      ]);
      const saved = t.savedSecrets.at(-1)!;
      expect(saved.accessToken).toMatch(/^sl\./);
      expect(saved.refreshToken).toBe(emu.credentials.refreshToken);
    });

    it('should throw AuthExpiredError, not loop, when the refresh token was revoked (invalid_grant)', async () => {
      await t.connector.mkdir('tok');
      emu.control.revokeRefreshTokens();
      emu.control.expireAccessTokens();
      emu.clearRequestLog();

      const err = await t.connector.stat('tok').catch((e: unknown) => e);

      expect(err).toBeInstanceOf(AuthExpiredError);
      expect((err as AuthExpiredError).providerCode).toBe('invalid_grant');
      expect(emu.requestLog.filter((e) => e.route === '/oauth2/token')).toHaveLength(1);
    });

    it('should throw AuthExpiredError after one refresh when Dropbox still says expired', async () => {
      const short = await startDropboxEmulator({ accessTokenLifetimeSeconds: 0 });
      try {
        const s = createDropboxForTest(short);
        await expect(s.connector.stat('x')).rejects.toBeInstanceOf(AuthExpiredError);
        const metas = calls(short.requestLog, 'files/get_metadata');
        expect(metas.map((e) => e.status)).toEqual([401, 401]);
      } finally {
        await short.stop();
      }
    });

    it('should refresh a stale token before the call instead of waiting for a 401', async () => {
      const s = createDropboxForTest(emu, {
        secrets: {
          accessToken: emu.credentials.accessToken,
          accessTokenExpiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
      });

      await s.connector.mkdir('fresh');

      expect(emu.requestLog.map((e) => e.route)).toEqual([
        '/oauth2/token',
        'files/create_folder_v2',
      ]);
    });
  });

  describe('rate limits and the change feed', () => {
    it('should wait the Retry-After Dropbox asked for when answered 429 too_many_requests', async () => {
      emu.control.rateLimitNext({ route: 'files/list_folder', retryAfterSeconds: 7 });

      const names: string[] = [];
      for await (const e of t.connector.list('')) names.push(e.name);

      expect(t.sleeps).toEqual([7000]);
      expect(calls(emu.requestLog, 'files/list_folder').map((e) => e.status)).toEqual([429, 200]);
    });

    it('should throw CursorExpiredError when Dropbox resets the cursor', async () => {
      const cursor = await t.connector.currentCursor('');
      emu.control.resetCursors();

      await expect(t.connector.changes('', cursor)).rejects.toBeInstanceOf(CursorExpiredError);
    });
  });
});
