import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../../../emulators/onedrive/onedrive-emulator.js';

/**
 * Issue 20, OneDrive: each request exactly as an independent client sends it to the real service,
 * raw over HTTP. The emulator hands out its own loopback addresses (publicUrls), downloads under
 * another host name (localhost) than the API (127.0.0.1), as the real CDN is.
 */
describe('onedrive emulator: what real clients send', () => {
  let emu: OneDriveEmulator;
  let api: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emu = await startOneDriveEmulator({ clientSecret: 'app-secret' });
    const local = emu.baseUrl.replace('127.0.0.1', 'localhost');
    emu.control.setPublicUrls({ graph: emu.baseUrl, upload: local, download: local });
    api = `${emu.baseUrl}/v1.0`;
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    await emu.seed.file('docs/a.bin', Buffer.alloc(1000, 1));
  });

  afterAll(async () => {
    await emu.stop();
  });

  async function session(name: string): Promise<string> {
    const res = await fetch(`${api}/me/drive/root:/docs/${name}:/createUploadSession`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'replace' } }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { uploadUrl: string }).uploadUrl;
  }

  it('should accept an Authorization header on the upload URL (PUT and DELETE)', async () => {
    const url = await session('up.bin');
    expect(new URL(url).host).not.toBe(new URL(api).host);
    const put = await fetch(url, {
      method: 'PUT',
      headers: { ...auth, 'Content-Range': 'bytes 0-9/10' },
      body: Buffer.from('0123456789'),
    });
    expect(put.status).toBe(201);
    expect(await emu.seed.read('docs/up.bin')).toEqual(Buffer.from('0123456789'));
    const cancel = await fetch(await session('cancelled.bin'), { method: 'DELETE', headers: auth });
    expect(cancel.status).toBe(204);
  });

  it('should serve the download under another host and accept an Authorization header there', async () => {
    const redirect = await fetch(`${api}/me/drive/root:/docs/a.bin:/content`, {
      headers: auth,
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(new URL(location).host).not.toBe(new URL(api).host);
    const body = await fetch(location, { headers: auth });
    expect(body.status).toBe(200);
    expect(Buffer.from(await body.arrayBuffer())).toEqual(Buffer.alloc(1000, 1));
  });

  it('should refuse the header on pre-authenticated URLs only when that fault is turned on', async () => {
    emu.control.rejectBearerOnPreauthUrls(true);
    try {
      const url = await session('refused.bin');
      const put = await fetch(url, {
        method: 'PUT',
        headers: { ...auth, 'Content-Range': 'bytes 0-1/2' },
        body: Buffer.from('ab'),
      });
      expect(put.status).toBe(401);
      const redirect = await fetch(`${api}/me/drive/root:/docs/a.bin:/content`, {
        headers: auth,
        redirect: 'manual',
      });
      const dl = await fetch(redirect.headers.get('location')!, { headers: auth });
      expect(dl.status).toBe(401);
      expect(await dl.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    } finally {
      emu.control.rejectBearerOnPreauthUrls(false);
    }
  });

  it('should take client_secret_basic at the token endpoint', async () => {
    const basic = Buffer.from(
      `${encodeURIComponent(emu.credentials.clientId)}:${encodeURIComponent('app-secret')}`,
    ).toString('base64');
    const res = await fetch(`${emu.baseUrl}/common/oauth2/v2.0/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: emu.credentials.refreshToken,
        scope: 'Files.ReadWrite.All offline_access',
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'Bearer' });
    const wrong = await fetch(`${emu.baseUrl}/common/oauth2/v2.0/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${emu.credentials.clientId}:nope`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('should expand children on an item and refuse an unknown navigation property', async () => {
    const res = await fetch(
      `${api}/me/drive/root:/docs:?$select=id,name&$expand=children($select=id,name)`,
      { headers: auth },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; children: Array<Record<string, unknown>> };
    expect(body.name).toBe('docs');
    expect(body.children.map((c) => c.name)).toContain('a.bin');
    expect(Object.keys(body.children[0]!).sort()).toEqual(['id', 'name']);
    const bad = await fetch(`${api}/me/drive/root?$expand=bogus`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalidRequest' } });
  });
});
