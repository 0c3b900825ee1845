import { readFile } from 'node:fs/promises';
import { ICloudAuthService } from '../../../src/connectors/icloud-photos/icloud-auth.service.js';
import { cookieHeader } from '../../../src/connectors/icloud-photos/icloud-photos.session.js';
import {
  EMULATOR_KINDS,
  type EmulatorControlApi,
  type EmulatorKind,
} from '../../../emulators/emulator-control.js';
import { startEmulator } from '../../../emulators/start-emulator.js';

/**
 * The control suite: every emulator's shared control API (seed, faults, request log, reset, stop)
 * behaves the same, checked through one authenticated raw request per service (its "probe").
 */
type Probe = () => Promise<Response>;

async function probeFor(kind: EmulatorKind, api: EmulatorControlApi): Promise<Probe> {
  const info = api.info as {
    credentials: { accessToken?: string; appleId?: string; password?: string };
    hosts?: { api: string };
  };
  const bearer = { Authorization: `Bearer ${info.credentials.accessToken}` };
  switch (kind) {
    case 'google-drive':
      return () => fetch(`${api.baseUrl}/drive/v3/files?q='root' in parents`, { headers: bearer });
    case 'onedrive':
      return () => fetch(`${api.baseUrl}/v1.0/me/drive/root/children`, { headers: bearer });
    case 'dropbox':
      return () =>
        fetch(`${info.hosts!.api}/2/files/list_folder`, {
          method: 'POST',
          headers: { ...bearer, 'Content-Type': 'application/json' },
          body: JSON.stringify({ path: '' }),
        });
    case 'icloud-photos': {
      const auth = new ICloudAuthService({
        authBaseUrl: `${api.baseUrl}/appleauth/auth`,
        setupBaseUrl: `${api.baseUrl}/setup/ws/1`,
        webOrigin: 'https://www.icloud.com',
      });
      const first = await auth.signIn(info.credentials.appleId!, info.credentials.password!);
      let session = first.session;
      if (first.state !== 'authenticated') {
        const asked = await auth.requestCode(session);
        session = (await auth.submitCode(asked, api.secondFactorCode()!)).session;
      }
      const cookie = cookieHeader(session.webCookies);
      return () =>
        fetch(
          `${session.ckdatabasewsUrl}/database/1/com.apple.photos.cloud/production/private/zones/list`,
          { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'text/plain' }, body: '{}' },
        );
    }
  }
}

describe.each(EMULATOR_KINDS)('%s emulator: the shared control API', (kind) => {
  let api: EmulatorControlApi;
  let probe: Probe;

  beforeAll(async () => {
    api = await startEmulator(
      kind,
      kind === 'icloud-photos' ? { librarySize: 3, iterations: 1000 } : {},
    );
    probe = await probeFor(kind, api);
  });

  afterAll(async () => {
    await api.stop().catch(() => undefined);
  });

  it('should seed a file whose stored bytes are the given ones', async () => {
    await api.seedFile('suite/IMG_0001.JPG', 'seeded bytes', {
      modifiedAt: new Date('2024-05-01T10:00:00Z'),
    });
    const stored = api.storedFilePath('suite/IMG_0001.JPG');
    expect(stored).toBeDefined();
    expect((await readFile(stored!)).toString()).toBe('seeded bytes');
    expect(api.storedFilePath('suite/missing.bin')).toBeUndefined();
  });

  it('should log requests, with a label, and clear the log', async () => {
    api.clearRequests();
    expect((await probe()).status).toBe(200);
    const log = api.requests();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 200 });
    expect(log[0]!.label).not.toBe('');
    api.clearRequests();
    expect(api.requests()).toEqual([]);
  });

  it('should answer 429 with Retry-After, then 503, once each', async () => {
    api.inject({ kind: 'rateLimit', retryAfterSeconds: 7 });
    const limited = await probe();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    api.inject({ kind: 'serverError', status: 503 });
    expect((await probe()).status).toBe(503);
    expect((await probe()).status).toBe(200);
  });

  it('should drop pending faults and the log on reset', async () => {
    api.inject({ kind: 'rateLimit', times: 3 });
    api.reset();
    expect(api.requests()).toEqual([]);
    expect((await probe()).status).toBe(200);
  });

  it('should refuse the old credentials after expireAccessTokens', async () => {
    api.inject({ kind: 'expireAccessTokens' });
    expect((await probe()).status).toBe(401);
  });

  it('should stop listening on stop', async () => {
    await api.stop();
    await expect(probe()).rejects.toThrow();
  });
});
