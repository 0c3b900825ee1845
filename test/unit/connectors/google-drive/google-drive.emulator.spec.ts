import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../../../emulators/google-drive/google-drive.emulator.js';

/** The emulator must be as strict as the real service, or the connector tests prove nothing. */
describe('google-drive emulator strictness', () => {
  let emu: GoogleDriveEmulator;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emu = await startGoogleDriveEmulator({ fixtures: false });
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
  });

  afterAll(async () => {
    await emu.stop();
  });

  async function startSession(total?: number): Promise<string> {
    const res = await fetch(`${emu.baseUrl}/upload/drive/v3/files?uploadType=resumable`, {
      method: 'POST',
      headers: {
        ...auth,
        'Content-Type': 'application/json; charset=UTF-8',
        ...(total === undefined ? {} : { 'X-Upload-Content-Length': String(total) }),
      },
      body: JSON.stringify({ name: 'strict.bin' }),
    });
    expect(res.status).toBe(200);
    const location = res.headers.get('location')!;
    expect(location.startsWith('https://www.googleapis.com/upload/drive/v3/files?')).toBe(true);
    return location.replace('https://www.googleapis.com', emu.baseUrl);
  }

  it('should answer 401 with the Google error body when the bearer token is missing or expired', async () => {
    const missing = await fetch(`${emu.baseUrl}/drive/v3/files`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({
      error: { code: 401, errors: [{ reason: 'required' }] },
    });
    emu.control.expireTokens();
    const expired = await fetch(`${emu.baseUrl}/drive/v3/files`, { headers: auth });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { errors: [{ reason: 'authError' }] } });
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: emu.credentials.refreshToken,
      client_id: emu.credentials.clientId,
      client_secret: emu.credentials.clientSecret,
    });
    const token = (await (
      await fetch(emu.credentials.tokenUrl, { method: 'POST', body: form })
    ).json()) as {
      access_token: string;
      expires_in: number;
    };
    expect(token.expires_in).toBe(3599);
    auth = { Authorization: `Bearer ${token.access_token}` };
  });

  it('should reject a non-final chunk that is not a multiple of 256 KiB', async () => {
    const session = await startSession();
    const res = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 0-99999/*' },
      body: Buffer.alloc(100_000),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('262144');
  });

  it('should answer 308 with the persisted Range and to the bytes */* status query', async () => {
    const session = await startSession();
    const first = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 0-262143/*' },
      body: Buffer.alloc(262144, 1),
    });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe('bytes=0-262143');
    const status = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes */*' },
    });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe('bytes=0-262143');
    const wrongOffset = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 0-9/10' },
      body: Buffer.alloc(10),
    });
    expect(wrongOffset.status).toBe(400);
    const last = await fetch(session, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 262144-262153/262154' },
      body: Buffer.alloc(10, 2),
    });
    expect(last.status).toBe(200);
    const file = (await last.json()) as { id: string; size?: string };
    expect(file.size).toBeUndefined(); // no fields on the session start: the default id,name,mimeType,kind
    expect(emu.store.files.get(file.id)?.blob?.size).toBe(262154);
    emu.control.expireUploadSessions();
    expect(
      (await fetch(session, { method: 'PUT', headers: { 'Content-Range': 'bytes */*' } })).status,
    ).toBe(404);
  });

  it('should serve 206 for a Range and 416 when it starts past the end', async () => {
    const f = await emu.seed.file('ranged.bin', Buffer.from('0123456789'));
    const part = await fetch(`${emu.baseUrl}/drive/v3/files/${f.id}?alt=media`, {
      headers: { ...auth, Range: 'bytes=2-4' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await part.text()).toBe('234');
    const past = await fetch(`${emu.baseUrl}/drive/v3/files/${f.id}?alt=media`, {
      headers: { ...auth, Range: 'bytes=10-' },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */10');
  });

  it('should return only the requested fields, sizes as strings, and page with nextPageToken', async () => {
    emu.seed.folder('paging');
    for (let i = 0; i < 5; i++) await emu.seed.file(`paging/f${i}.txt`, `file ${i}`);
    const folder = emu.findByPath('paging')!;
    const q = encodeURIComponent(`'${folder.id}' in parents and trashed = false`);
    const url = `${emu.baseUrl}/drive/v3/files?q=${q}&pageSize=2&fields=nextPageToken,files(id,name,size,sha256Checksum)`;
    const page = (await (await fetch(url, { headers: auth })).json()) as {
      nextPageToken?: string;
      files: Array<Record<string, unknown>>;
    };
    expect(page.files).toHaveLength(2);
    expect(Object.keys(page.files[0]!).sort()).toEqual(['id', 'name', 'sha256Checksum', 'size']);
    expect(typeof page.files[0]!.size).toBe('string');
    expect(page.nextPageToken).toBeDefined();
    const bad = await fetch(
      `${emu.baseUrl}/drive/v3/files?q=${encodeURIComponent('name contains')}`,
      { headers: auth },
    );
    expect(bad.status).toBe(400);
  });

  it('should inject 429 with Retry-After and the real rate-limit body', async () => {
    emu.control.rateLimitNext({ status: 429, retryAfterSeconds: 5 });
    const res = await fetch(`${emu.baseUrl}/drive/v3/files`, { headers: auth });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({
      error: { code: 429, errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded' }] },
    });
  });
});
