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

/** One data-carrying upload request of 600 KiB, raw; resolves to the status or 'cut'. */
async function uploadFor(kind: EmulatorKind, api: EmulatorControlApi): Promise<number | 'cut'> {
  const info = api.info as {
    credentials: { accessToken?: string };
    hosts?: { content: string };
  };
  const bearer = { Authorization: `Bearer ${info.credentials.accessToken}` };
  const body = Buffer.alloc(600 * 1024, 1);
  const send = async (url: string, init: RequestInit) => {
    try {
      return (await fetch(url, init)).status;
    } catch {
      return 'cut' as const;
    }
  };
  switch (kind) {
    case 'dropbox':
      return send(`${info.hosts!.content}/2/files/upload`, {
        method: 'POST',
        headers: {
          ...bearer,
          'Content-Type': 'application/octet-stream',
          'Dropbox-API-Arg': JSON.stringify({ path: '/suite/up.bin', mode: 'overwrite' }),
        },
        body,
      });
    case 'google-drive': {
      const start = await fetch(`${api.baseUrl}/upload/drive/v3/files?uploadType=resumable`, {
        method: 'POST',
        headers: { ...bearer, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'up.bin' }),
      });
      return send(start.headers.get('location')!.replace(/^https?:\/\/[^/]+/, api.baseUrl), {
        method: 'PUT',
        headers: { 'Content-Range': `bytes 0-${body.length - 1}/${body.length}` },
        body,
      });
    }
    case 'onedrive': {
      const start = await fetch(`${api.baseUrl}/v1.0/me/drive/root:/up.bin:/createUploadSession`, {
        method: 'POST',
        headers: { ...bearer, 'Content-Type': 'application/json' },
        body: '{}',
      });
      const url = ((await start.json()) as { uploadUrl: string }).uploadUrl;
      return send(url.replace(/^https?:\/\/[^/]+/, api.baseUrl), {
        method: 'PUT',
        headers: { 'Content-Range': `bytes 0-${body.length - 1}/${body.length}` },
        body,
      });
    }
    case 'icloud-photos':
      throw new Error('not used');
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

  it('should list the stored files below a folder', async () => {
    const files = api.storedFiles('suite');
    expect(files.map((f) => f.path)).toContain(
      kind === 'icloud-photos' ? 'IMG_0001.JPG' : 'suite/IMG_0001.JPG',
    );
    expect((await readFile(files[0]!.storedPath)).toString()).toBe('seeded bytes');
  });

  it('should hold a fault matched to other traffic until that traffic comes', async () => {
    api.inject({ kind: 'rateLimit', retryAfterSeconds: 3, match: { traffic: 'download' } });
    expect((await probe()).status).toBe(200);
    api.reset();
    api.inject({ kind: 'rateLimit', retryAfterSeconds: 3, match: { traffic: 'api' } });
    expect((await probe()).status).toBe(429);
  });

  it('should cut the next upload request, and log it as cut', async () => {
    if (kind === 'icloud-photos') {
      expect(() => api.inject({ kind: 'cutUpload', afterBytes: 1024 })).toThrow(/cannot inject/);
      return;
    }
    api.reset();
    api.inject({ kind: 'cutUpload', afterBytes: 300 * 1024 });
    expect(await uploadFor(kind, api)).toBe('cut');
    const cut = api.requests().filter((r) => r.cut);
    expect(cut).toHaveLength(1);
    expect(cut[0]!.bodyBytes).toBe(600 * 1024);
    expect(await uploadFor(kind, api)).toBeLessThan(300);
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
