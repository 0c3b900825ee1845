import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  AuthExpiredError,
  CursorExpiredError,
  IntegrityError,
  NotFoundError,
  QuotaExceededError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import type { OneDriveConnector } from '../../../../src/connectors/onedrive/onedrive.connector.js';
import { createOneDriveForTest, instantClock } from '../../../support/connectors/onedrive.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulator,
  type RequestLogEntry,
} from '../../../../emulators/onedrive/onedrive-emulator.js';

const FRAG = 320 * 1024;

function bytesOf(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function streamOf(data: Buffer, piece = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
    })(),
  );
}

/** Start offsets of the fragment PUTs in the request log, in order. */
function fragmentStarts(log: RequestLogEntry[]): number[] {
  return log
    .filter((e) => e.role === 'upload' && e.method === 'PUT')
    .map((e) => Number(/^bytes (\d+)-/.exec(e.contentRange ?? '')?.[1]));
}

describe('OneDrive connector under injected faults', () => {
  let emu: OneDriveEmulator;
  let sut: OneDriveConnector;
  let sleeps: number[];

  beforeEach(async () => {
    emu = await startOneDriveEmulator();
    sleeps = [];
    sut = createOneDriveForTest(emu, { clock: instantClock(sleeps) });
  });

  afterEach(async () => {
    await emu.stop();
  });

  it('should resume from the server offset when a fragment is cut and the server kept part of it', async () => {
    const data = bytesOf(3 * FRAG + 1000, 2);
    emu.control.cutNextUploadFragment(100_000, { keepPartial: true });
    emu.requestLog.length = 0;

    const entry = await sut.write('up/partial.bin', streamOf(data), { size: data.length });

    expect(entry.size).toBe(data.length);
    expect(sha((await emu.seed.read('up/partial.bin'))!)).toBe(sha(data));
    const starts = fragmentStarts(emu.requestLog);
    expect(starts[0]).toBe(0);
    expect(starts[1]).toBe(100_000); // not 0: resumed where the server stopped, off the 320 KiB grid
    expect(starts.filter((s) => s === 0)).toHaveLength(1);
    expect(emu.requestLog.some((e) => e.role === 'upload' && e.method === 'GET')).toBe(true);
  });

  it('should re-send only the broken fragment when a later fragment is cut and nothing was kept', async () => {
    const data = bytesOf(4 * FRAG + 5, 3);
    emu.control.cutNextUploadFragment(50_000, { skipFragments: 2 });
    emu.requestLog.length = 0;

    await sut.write('up/cut-third.bin', streamOf(data, 10_000), { size: data.length });

    expect(sha((await emu.seed.read('up/cut-third.bin'))!)).toBe(sha(data));
    expect(fragmentStarts(emu.requestLog)).toEqual([
      0,
      FRAG,
      2 * FRAG,
      2 * FRAG,
      3 * FRAG,
      4 * FRAG,
    ]);
  });

  it('should ask for the status instead of re-sending when the server kept a whole fragment but the answer was lost', async () => {
    const data = bytesOf(2 * FRAG + 10, 4);
    emu.control.cutNextUploadFragment(FRAG, { keepPartial: true });
    emu.requestLog.length = 0;

    await sut.write('up/lost-answer.bin', streamOf(data), { size: data.length });

    expect(sha((await emu.seed.read('up/lost-answer.bin'))!)).toBe(sha(data));
    expect(fragmentStarts(emu.requestLog)).toEqual([0, FRAG, 2 * FRAG]);
    expect(emu.requestLog.filter((e) => e.status === 416)).toHaveLength(0);
  });

  it('should honour Retry-After when a fragment PUT is throttled with 429 and 503', async () => {
    const data = bytesOf(2 * FRAG + 1, 5);
    emu.control.rateLimitNext({ target: 'upload', retryAfterSec: 7 });
    emu.control.serviceUnavailableNext({ target: 'upload', retryAfterSec: 3 });

    await sut.write('up/throttled.bin', streamOf(data), { size: data.length });

    expect(sha((await emu.seed.read('up/throttled.bin'))!)).toBe(sha(data));
    expect(sleeps).toEqual(expect.arrayContaining([7000, 3000]));
    expect(emu.requestLog.filter((e) => e.fault?.startsWith('429'))).toHaveLength(1);
  });

  it('should retry a Graph call that failed with 500 and then succeed', async () => {
    await emu.seed.file('a.txt', 'abc');
    emu.control.failNext({ status: 500 });
    await expect(sut.stat('a.txt')).resolves.toMatchObject({ size: 3 });
    expect(emu.requestLog.filter((e) => e.status === 500)).toHaveLength(1);
  });

  it('should continue a download with Range at the byte where the connection broke', async () => {
    const data = bytesOf(1_000_000, 6);
    await emu.seed.file('dl/big.bin', data);
    emu.control.cutNextDownload(300_000);
    emu.requestLog.length = 0;

    const got = await buffer(await sut.read('dl/big.bin'));

    expect(sha(got)).toBe(sha(data));
    const downloads = emu.requestLog.filter((e) => e.role === 'download');
    expect(downloads).toHaveLength(2);
    expect(downloads[0]!.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-/.exec(downloads[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(300_000);
    expect(downloads.every((e) => !e.hasAuthorization)).toBe(true);
  });

  it('should keep a ranged read exact when it is cut in the middle', async () => {
    const data = bytesOf(500_000, 7);
    await emu.seed.file('dl/ranged.bin', data);
    emu.control.cutNextDownload(10_000);

    const got = await buffer(
      await sut.read('dl/ranged.bin', { range: { offset: 123_456, length: 200_000 } }),
    );

    expect(got.equals(data.subarray(123_456, 323_456))).toBe(true);
  });

  it('should error the stream, not end it early, when every resume of a download breaks', async () => {
    await emu.seed.file('dl/doomed.bin', bytesOf(400_000, 8));
    for (let i = 0; i < 10; i++) emu.control.cutNextDownload(0);
    await expect(buffer(await sut.read('dl/doomed.bin'))).rejects.toBeInstanceOf(TransientError);
  });

  it('should refresh the token once and store the rotated refresh token when the access token expired', async () => {
    const saved: Array<Record<string, string>> = [];
    sut = createOneDriveForTest(emu, { saveSecrets: async (s) => void saved.push(s) });
    await emu.seed.file('t.txt', 'token');
    emu.control.expireToken();

    await expect(sut.stat('t.txt')).resolves.toMatchObject({ size: 5 });

    expect(saved).toHaveLength(1);
    expect(saved[0]!.refreshToken).toBeDefined();
    expect(saved[0]!.refreshToken).not.toBe(emu.credentials.refreshToken);
    expect(emu.requestLog.filter((e) => e.status === 401)).toHaveLength(1);
  });

  it('should throw AuthExpiredError without looping when the refresh token was revoked', async () => {
    emu.control.revokeRefreshTokens();
    emu.control.expireToken();
    await expect(sut.stat('')).rejects.toBeInstanceOf(AuthExpiredError);
    expect(emu.requestLog.filter((e) => e.role === 'login')).toHaveLength(1);
  });

  it('should fail with a retryable error and leave no file when the upload session expires mid-upload', async () => {
    const data = bytesOf(3 * FRAG, 9);
    const control = emu.control;
    async function* source(): AsyncGenerator<Buffer> {
      yield data.subarray(0, FRAG);
      yield data.subarray(FRAG, 2 * FRAG);
      control.expireUploadSessions(); // after the first fragment went out
      yield data.subarray(2 * FRAG);
    }

    const err = await sut
      .write('up/expired.bin', Readable.from(source()), { size: data.length })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(TransientError);
    expect(String((err as Error).message)).toMatch(/upload session/);
    expect(emu.seed.exists('up/expired.bin')).toBe(false);
    expect(emu.seed.openUploadSessions()).toBe(0);
  });

  it('should throw QuotaExceededError when the drive is full', async () => {
    emu.control.setQuota(100_000);
    const data = bytesOf(2 * FRAG, 10);
    await expect(
      sut.write('full.bin', streamOf(data), { size: data.length }),
    ).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(
      sut.write('small.bin', Readable.from([bytesOf(200_000)]), { size: 200_000 }),
    ).rejects.toBeInstanceOf(QuotaExceededError);
    expect(emu.seed.openUploadSessions()).toBe(0);
  });

  it('should delete the upload and throw IntegrityError when the reported quickXorHash differs', async () => {
    emu.control.misreportNextHash();
    const data = bytesOf(FRAG + 3, 11);
    await expect(
      sut.write('bad-hash.bin', streamOf(data), { size: data.length }),
    ).rejects.toBeInstanceOf(IntegrityError);
    await expect(sut.stat('bad-hash.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should throw CursorExpiredError when delta answers 410 resyncRequired', async () => {
    const cursor = await sut.currentCursor('');
    emu.control.expireDeltaTokens();
    await expect(sut.changes('', cursor)).rejects.toBeInstanceOf(CursorExpiredError);
  });

  it('should send no Authorization header to upload URLs', async () => {
    const data = bytesOf(FRAG + 1, 12);
    await sut.write('noauth.bin', streamOf(data), { size: data.length });
    const uploads = emu.requestLog.filter((e) => e.role === 'upload');
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.every((e) => !e.hasAuthorization)).toBe(true);
    expect(emu.requestLog.filter((e) => e.role === 'graph').every((e) => e.hasAuthorization)).toBe(
      true,
    );
  });
});
