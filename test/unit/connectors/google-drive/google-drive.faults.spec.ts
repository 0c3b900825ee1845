import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  AuthExpiredError,
  QuotaExceededError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import type { GoogleDriveConnector } from '../../../../src/connectors/google-drive/google-drive.connector.js';
import { createGoogleDriveForTest } from '../../../support/connectors/google-drive.js';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
  type RequestLogEntry,
} from '../../../../emulators/google-drive/google-drive.emulator.js';
import { bytesOf, KiB, recordingClock, sha256, streamOf } from './helpers.js';

const CHUNK = 256 * KiB;

describe('google-drive connector under injected faults', () => {
  let emu: GoogleDriveEmulator;
  let clock: ReturnType<typeof recordingClock>;
  let sut: GoogleDriveConnector;

  beforeEach(async () => {
    emu = await startGoogleDriveEmulator({ fixtures: false });
    clock = recordingClock();
    sut = createGoogleDriveForTest(emu, { pacer: { clock } });
  });

  afterEach(async () => {
    await emu.stop();
  });

  const chunkPuts = (): RequestLogEntry[] => emu.requestLog.filter((r) => r.method === 'PUT');
  const offsets = (): string[] => chunkPuts().map((r) => r.contentRange ?? '');

  async function storedBytes(path: string): Promise<Buffer> {
    const f = emu.findByPath(path);
    if (!f) throw new Error(`${path} not stored`);
    return emu.content(f.id);
  }

  it('should resume from the acknowledged offset when the connection is cut inside an upload chunk', async () => {
    sut = createGoogleDriveForTest(emu, {
      pacer: { clock },
      config: { uploadChunkSize: 2 * CHUNK },
    });
    const data = bytesOf(5 * CHUNK + 1000, 3);
    // Second chunk (bytes 524288..1048575): cut after 300 KiB; the server keeps 256 KiB of it.
    emu.control.cutNextUploadChunk(300 * KiB, CHUNK, 1);
    const w = await sut.write('up/cut.bin', streamOf(data), { size: data.length });
    expect(w.size).toBe(data.length);
    expect(sha256(await storedBytes('up/cut.bin'))).toBe(sha256(data));
    const total = data.length;
    expect(offsets()).toEqual([
      `bytes 0-524287/${total}`,
      `bytes 524288-1048575/${total}`, // cut: 786432 kept
      `bytes */${total}`, // status query -> 308 Range bytes=0-786431
      `bytes 786432-1048575/${total}`, // resumed inside the chunk, from memory
      `bytes 1048576-${total - 1}/${total}`,
    ]);
  });

  it('should continue from the Range end when the server keeps fewer bytes than sent', async () => {
    const data = bytesOf(3 * CHUNK + 5, 4);
    emu.control.partialPersistNext(0);
    const w = await sut.write('partial.bin', streamOf(data), { size: data.length });
    expect(w.hashes.sha256).toBe(sha256(data));
    const total = data.length;
    expect(offsets()).toEqual([
      `bytes 0-262143/${total}`, // kept nothing: 308 without Range
      `bytes 0-262143/${total}`,
      `bytes 262144-524287/${total}`,
      `bytes 524288-786431/${total}`,
      `bytes 786432-${total - 1}/${total}`,
    ]);
  });

  it('should ask the session and resume when a chunk gets a 503', async () => {
    const data = bytesOf(2 * CHUNK + 7, 5);
    emu.control.failNext(503, { target: 'uploadChunk', retryAfterSeconds: 3 });
    await sut.write('flaky.bin', streamOf(data), { size: data.length });
    expect(sha256(await storedBytes('flaky.bin'))).toBe(sha256(data));
    expect(offsets()).toEqual([
      `bytes 0-262143/${data.length}`, // 503
      `bytes */${data.length}`, // nothing persisted
      `bytes 0-262143/${data.length}`,
      `bytes 262144-524287/${data.length}`,
      `bytes 524288-${data.length - 1}/${data.length}`,
    ]);
    expect(clock.slept).toContain(3000); // Retry-After honoured by the pacer
  });

  it('should send bytes a-b/* chunks when the size is unknown', async () => {
    const data = bytesOf(CHUNK + 100, 6);
    const w = await sut.write('unknown.bin', streamOf(data, 7000));
    expect(w.size).toBe(data.length);
    expect(offsets()).toEqual([
      `bytes 0-262143/*`,
      `bytes 262144-${data.length - 1}/${data.length}`,
    ]);
  });

  it('should reopen a download at the byte where the connection was cut', async () => {
    const data = bytesOf(700 * KiB, 7);
    await sut.write('dl.bin', Readable.from([data]), { size: data.length });
    emu.requestLog.length = 0;
    emu.control.cutNextDownload(300_000);
    const got = await buffer(await sut.read('dl.bin'));
    expect(sha256(got)).toBe(sha256(data));
    const gets = emu.requestLog.filter((r) => r.query.alt === 'media');
    expect(gets.map((r) => r.range)).toEqual([
      `bytes=0-${data.length - 1}`,
      `bytes=300000-${data.length - 1}`,
    ]);
    expect(gets[0]!.fault).toBe('cutDownload after 300000');
  });

  it('should resume a ranged download inside its range when cut', async () => {
    const data = bytesOf(500 * KiB, 8);
    await sut.write('dl2.bin', Readable.from([data]), { size: data.length });
    emu.control.cutNextDownload(1000);
    const got = await buffer(
      await sut.read('dl2.bin', { range: { offset: 10_000, length: 50_000 } }),
    );
    expect(got.equals(data.subarray(10_000, 60_000))).toBe(true);
    const ranges = emu.requestLog.filter((r) => r.query.alt === 'media').map((r) => r.range);
    expect(ranges).toEqual(['bytes=10000-59999', 'bytes=11000-59999']);
  });

  it('should error, not end early, when a download keeps breaking', async () => {
    const data = bytesOf(200 * KiB, 9);
    await sut.write('dl3.bin', Readable.from([data]), { size: data.length });
    emu.control.inject({ type: 'cutDownload', afterBytes: 0 }, { times: 100 });
    await expect(buffer(await sut.read('dl3.bin'))).rejects.toBeInstanceOf(TransientError);
  });

  it('should refresh the token once and save it when the access token expired', async () => {
    const saved: Array<Record<string, string>> = [];
    sut = createGoogleDriveForTest(emu, {
      pacer: { clock },
      saveSecrets: async (s) => void saved.push(s),
    });
    await sut.mkdir('t');
    emu.control.expireTokens();
    await sut.write('t/after-expiry.txt', Readable.from([Buffer.from('ok')]), { size: 2 });
    expect(emu.control.refreshCount).toBe(1);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.accessToken).toMatch(/^ya29\./);
    expect(Number(saved[0]!.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    expect(emu.requestLog.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('should throw AuthExpiredError when the refresh token was revoked', async () => {
    await sut.mkdir('r');
    emu.control.expireTokens();
    emu.control.revokeRefreshTokens();
    const err = await sut.stat('r').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthExpiredError);
    expect((err as Error).message).toMatch(/re-authentication needed/);
    expect(emu.requestLog.filter((r) => r.path === '/token')).toHaveLength(1); // no retry loop
  });

  it('should ride out 403 userRateLimitExceeded bursts on metadata calls', async () => {
    emu.control.rateLimitNext({
      status: 403,
      reason: 'userRateLimitExceeded',
      retryAfterSeconds: 2,
      times: 2,
    });
    await expect(sut.mkdir('burst')).resolves.toMatchObject({ kind: 'folder' });
    expect(clock.slept.filter((ms) => ms >= 2000)).toHaveLength(2);
  });

  it('should report QuotaExceededError when uploads keep failing with userRateLimitExceeded (daily cap)', async () => {
    await sut.mkdir('cap');
    emu.control.setUploadCap('userRateLimitExceeded');
    const err = await sut
      .write('cap/a.bin', Readable.from([bytesOf(10)]), { size: 10 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect((err as Error).message).toMatch(/daily upload cap/);
    expect(emu.requestLog.filter((r) => r.status === 403).length).toBe(7); // first try + 6 pacer retries
  });

  it('should report QuotaExceededError at once when the storage is full', async () => {
    await sut.mkdir('full');
    emu.control.setUploadCap('storageQuotaExceeded');
    const err = await sut
      .write('full/a.bin', Readable.from([bytesOf(10)]), { size: 10 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect(emu.requestLog.filter((r) => r.status === 403)).toHaveLength(1);
  });

  it('should fail as transient, not restart from zero, when the session dies after the first chunk', async () => {
    const data = bytesOf(3 * CHUNK, 10);
    emu.control.inject({ type: 'expireSession' }, { skip: 1 });
    await expect(
      sut.write('dead.bin', streamOf(data), { size: data.length }),
    ).rejects.toBeInstanceOf(TransientError);
    expect(emu.findByPath('dead.bin')).toBeUndefined();
    expect(offsets()).toEqual([
      `bytes 0-262143/${data.length}`,
      `bytes 262144-524287/${data.length}`,
    ]);
  });

  it('should start a new session when it dies before anything was acknowledged', async () => {
    const data = bytesOf(CHUNK + 1, 11);
    emu.control.inject({ type: 'expireSession' });
    const w = await sut.write('reborn.bin', streamOf(data), { size: data.length });
    expect(w.hashes.md5).toBeDefined();
    expect(sha256(await storedBytes('reborn.bin'))).toBe(sha256(data));
    expect(
      emu.requestLog.filter((r) => r.query.uploadType === 'resumable' && r.method === 'POST'),
    ).toHaveLength(2);
  });
});
