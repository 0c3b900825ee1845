import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { Entry } from '../../../../src/connectors/connector.js';
import {
  AuthExpiredError,
  FatalError,
  RateLimitedError,
} from '../../../../src/connectors/connector.errors.js';
import type { ICloudPhotosConnector } from '../../../../src/connectors/icloud-photos/icloud-photos.connector.js';
import { Pacer } from '../../../../src/connectors/pacer/pacer.js';
import {
  createICloudPhotosForTest,
  fastClock,
  type ICloudTestHandle,
} from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function firstFiles(c: ICloudPhotosConnector, n: number): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const y of c.list('All Photos')) {
    for await (const m of c.list(y.path)) {
      for await (const f of c.list(m.path)) {
        if ((f.extras as { variant: string }).variant === 'original') out.push(f);
        if (out.length >= n) return out;
      }
    }
  }
  return out;
}

describe('iCloud Photos connector: faults', () => {
  let emu: ICloudPhotosEmulator;
  let h: ICloudTestHandle;
  let files: Entry[];

  const expected = (e: Entry) =>
    emu.expectedBytes(
      emu.primary.byAssetId.get((e.extras as { assetId: string }).assetId)!,
      'resOriginal',
    );

  beforeEach(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 12,
      iterations: 1000,
      minFileSize: 300_000,
      maxFileSize: 400_000,
    });
    h = await createICloudPhotosForTest(emu);
    files = await firstFiles(h.connector, 3);
    emu.requestLog.clear();
  });
  afterEach(() => emu.stop());

  it('should re-query the record and resume with Range when the download URL expires mid-read', async () => {
    const f = files[0]!;
    emu.control.cutNextDownload(150_000, { expireUrls: true });
    const data = await buffer(await h.connector.read(f.path));
    expect(data.length).toBe(f.size);
    expect(sha(data)).toBe(sha(expected(f)));
    const log = emu.requestLog.entries.map((e) => [e.endpoint, e.status, e.range ?? '']);
    expect(log[0]).toEqual(['cdn GET', 200, '']);
    const resumedAt = Number(/bytes=(\d+)-/.exec(String(log[1]![2]))?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(150_000);
    expect(log.slice(1)).toEqual([
      ['cdn GET', 410, `bytes=${resumedAt}-${f.size! - 1}`],
      ['ck private/records/lookup', 200, ''],
      ['cdn GET', 206, `bytes=${resumedAt}-${f.size! - 1}`],
    ]);
  });

  it('should refresh an expired URL before the first byte and read the file intact', async () => {
    const f = files[1]!;
    emu.control.expireDownloadUrls();
    const data = await buffer(
      await h.connector.read(f.path, { range: { offset: 1000, length: 5000 } }),
    );
    expect(data.equals(expected(f).subarray(1000, 6000))).toBe(true);
    expect(emu.requestLog.entries.map((e) => [e.endpoint, e.status])).toEqual([
      ['cdn GET', 410],
      ['ck private/records/lookup', 200],
      ['cdn GET', 206],
    ]);
  });

  it('should resume with Range after a connection cut without a URL change', async () => {
    const f = files[2]!;
    emu.control.cutNextDownload(100_000);
    const data = await buffer(await h.connector.read(f.path));
    expect(sha(data)).toBe(sha(expected(f)));
    const cdn = emu.requestLog.entries.filter((e) => e.endpoint === 'cdn GET');
    expect(cdn).toHaveLength(2);
    expect(cdn[1]!.range).toMatch(/^bytes=\d+-/);
    expect(Number(/bytes=(\d+)/.exec(cdn[1]!.range!)![1])).toBeGreaterThan(0);
  });

  it('should back off and succeed when CloudKit throttles with 503', async () => {
    const cold = await createICloudPhotosForTest(emu, { session: h.session });
    emu.requestLog.clear();
    emu.control.throttle({ scope: 'ck', status: 503, count: 3, retryAfterSec: 2 });
    const listed = [];
    for await (const e of cold.connector.list('All Photos')) listed.push(e);
    expect(listed.length).toBeGreaterThan(0);
    expect(emu.requestLog.entries.filter((e) => e.status === 503)).toHaveLength(3);
  });

  it('should surface RateLimitedError with Retry-After when throttling outlasts the retries', async () => {
    const pacer = new Pacer({ clock: fastClock, maxRetries: 2, random: () => 0 });
    const cold = await createICloudPhotosForTest(emu, { session: h.session, pacer });
    emu.control.throttle({ scope: 'ck', status: 503, count: 100, retryAfterSec: 30 });
    const err = await (async () => {
      for await (const _ of cold.connector.list('')) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(30_000);
    expect(emu.requestLog.count('ck')).toBe(3);
  });

  it('should retry a download answered with 429', async () => {
    const f = files[0]!;
    emu.control.throttle({ scope: 'cdn', status: 429, count: 1, retryAfterSec: 1 });
    expect(sha(await buffer(await h.connector.read(f.path)))).toBe(sha(expected(f)));
    expect(
      emu.requestLog.entries.filter((e) => e.endpoint === 'cdn GET').map((e) => e.status),
    ).toEqual([429, 200]);
  });

  it('should sign in again with the trust token (no code) and save the session when the web session expires', async () => {
    emu.control.expireSession(421);
    const cold = await createICloudPhotosForTest(emu, { session: h.session });
    emu.requestLog.clear();
    const entries = [];
    for await (const e of cold.connector.list('All Photos')) entries.push(e);
    expect(entries.length).toBeGreaterThan(0);
    const counts = emu.requestLog.counts();
    // fetch (per the Fetch standard) repeats a request answered 421 once on a new connection.
    expect(counts['setup /validate']).toBeGreaterThanOrEqual(1);
    expect(counts['idmsa POST /signin/complete']).toBe(1);
    expect(counts['idmsa POST /verify/trusteddevice/securitycode']).toBeUndefined();
    expect(cold.saved).toHaveLength(1);
    expect(cold.saved[0]!.trustToken).toBe(h.session.trustToken);
    expect(cold.saved[0]!.sessionToken).not.toBe(h.session.sessionToken);
  });

  it('should throw AuthExpiredError (re-authentication needed) when Apple asks for a new code', async () => {
    emu.control.expireSession(401);
    emu.control.expireTrustTokens();
    const err = await h.connector
      .read(files[0]!.path)
      .then(buffer)
      .catch((e: unknown) => e);
    // The download itself needs no session; the next CloudKit call does.
    void err;
    const cold = await createICloudPhotosForTest(emu, { session: h.session });
    const listErr = await (async () => {
      for await (const _ of cold.connector.list('All Photos')) void _;
    })().catch((e: unknown) => e);
    expect(listErr).toBeInstanceOf(AuthExpiredError);
    expect((listErr as Error).message).toMatch(/re-authentication needed/);
  });

  it('should stop at once with FatalError when the account is locked (ACCESS_DENIED)', async () => {
    emu.control.lockAccount();
    const cold = await createICloudPhotosForTest(emu, { session: h.session });
    emu.requestLog.clear();
    const err = await cold.connector.stat(files[0]!.path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect(emu.requestLog.count('ck')).toBe(1);
  });
});
