import { Dropbox } from 'dropbox';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../../emulators/dropbox/dropbox-emulator.js';

/** The emulator must be as strict as the real service, or the connector tests prove nothing. */
describe('Dropbox emulator', () => {
  let emu: DropboxEmulator;
  let auth: string;

  beforeAll(async () => {
    emu = await startDropboxEmulator({ maxRequestBytes: 1000 });
    auth = `Bearer ${emu.credentials.accessToken}`;
  });

  afterAll(async () => {
    await emu.stop();
  });

  const rpc = (route: string, body: unknown, host = 'api', headers: Record<string, string> = {}) =>
    fetch(`${emu.baseUrl}/${host}/2/${route}`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const upload = (route: string, arg: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${emu.baseUrl}/content/2/${route}`, {
      method: 'POST',
      headers: {
        Authorization: auth,
        'Content-Type': 'application/octet-stream',
        'Dropbox-API-Arg': arg,
        ...headers,
      },
      body,
    });

  it('should reject an RPC route sent to the content host', async () => {
    const res = await rpc('files/list_folder', { path: '' }, 'content');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/api\.dropboxapi\.com/);
  });

  it('should answer 400 plain text when the JSON body is malformed', async () => {
    const res = await fetch(`${emu.baseUrl}/api/2/files/list_folder`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: '{"path": ',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(
      /^Error in call to API function "files\/list_folder": .*could not decode input as JSON/,
    );
  });

  it('should answer 400 when the root is given as "/"', async () => {
    const res = await rpc('files/list_folder', { path: '/' });
    expect(res.status).toBe(400);
  });

  it('should answer 400 without an Authorization header and 401 invalid_access_token with a bad one', async () => {
    const none = await fetch(`${emu.baseUrl}/api/2/files/list_folder`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"path":""}',
    });
    expect(none.status).toBe(400);
    const bad = await rpc('files/list_folder', { path: '' }, 'api', {
      Authorization: 'Bearer sl.nope',
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { '.tag': 'invalid_access_token' } });
  });

  it('should reject raw non-ASCII in Dropbox-API-Arg and accept the \\uXXXX escape', async () => {
    const raw = await upload(
      'files/upload',
      '{"path":"/caf\u00e9.txt","mode":"add"}',
      Buffer.from('x'),
    );
    expect(raw.status).toBe(400);
    expect(await raw.text()).toMatch(/Dropbox-API-Arg/);
    const escaped = await upload(
      'files/upload',
      '{"path":"/caf\\u00e9.txt","mode":"add"}',
      Buffer.from('x'),
    );
    expect(escaped.status).toBe(200);
    expect(await escaped.json()).toMatchObject({ name: 'café.txt', path_display: '/café.txt' });
  });

  it('should keep the display case while looking paths up case-insensitively', async () => {
    await upload(
      'files/upload',
      JSON.stringify({ path: '/MixedCase/File.TXT', mode: 'overwrite' }),
      Buffer.from('abc'),
    );
    const res = await rpc('files/get_metadata', { path: '/mixedcase/file.txt' });
    expect(await res.json()).toMatchObject({
      name: 'File.TXT',
      path_lower: '/mixedcase/file.txt',
      path_display: '/MixedCase/File.TXT',
      content_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('should answer 409 with error_summary and a tagged error for a missing path', async () => {
    const res = await rpc('files/get_metadata', { path: '/nope' });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error_summary: string; error: unknown };
    expect(body.error_summary).toMatch(/^path\/not_found\/\.+$/);
    expect(body.error).toEqual({ '.tag': 'path', path: { '.tag': 'not_found' } });
  });

  it('should carry correct_offset in incorrect_offset and refuse requests over the size cap', async () => {
    const start = await upload(
      'files/upload_session/start',
      '{"close":false}',
      Buffer.from('12345'),
    );
    const { session_id } = (await start.json()) as { session_id: string };
    const wrong = await upload(
      'files/upload_session/append_v2',
      JSON.stringify({ cursor: { session_id, offset: 0 }, close: false }),
      Buffer.from('x'),
    );
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({
      error: { '.tag': 'incorrect_offset', correct_offset: 5 },
    });
    const big = await upload(
      'files/upload_session/append_v2',
      JSON.stringify({ cursor: { session_id, offset: 5 }, close: false }),
      Buffer.alloc(1001),
    );
    expect(big.status).toBe(409);
    expect(await big.json()).toMatchObject({ error: { '.tag': 'payload_too_large' } });
    const fin = await upload(
      'files/upload_session/finish',
      JSON.stringify({
        cursor: { session_id, offset: 3 },
        commit: { path: '/s.txt', mode: 'add' },
      }),
      Buffer.alloc(0),
    );
    expect(await fin.json()).toMatchObject({
      error: {
        '.tag': 'lookup_failed',
        lookup_failed: { '.tag': 'incorrect_offset', correct_offset: 5 },
      },
    });
  });

  it('should commit closed sessions through finish_batch_v2 and finish_batch/check', async () => {
    const start = await upload(
      'files/upload_session/start',
      '{"close":true}',
      Buffer.from('batch'),
    );
    const { session_id } = (await start.json()) as { session_id: string };
    const entries = [
      { cursor: { session_id, offset: 5 }, commit: { path: '/batch.txt', mode: 'add' } },
    ];
    const v2 = await rpc('files/upload_session/finish_batch_v2', { entries });
    expect(await v2.json()).toMatchObject({
      entries: [{ '.tag': 'success', name: 'batch.txt', size: 5 }],
    });
    const v1 = await rpc('files/upload_session/finish_batch', { entries });
    const job = (await v1.json()) as { async_job_id: string };
    expect(await (await rpc('files/upload_session/finish_batch/check', job)).json()).toEqual({
      '.tag': 'in_progress',
    });
    expect(await (await rpc('files/upload_session/finish_batch/check', job)).json()).toMatchObject({
      '.tag': 'complete',
      entries: [
        {
          '.tag': 'failure',
          failure: { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_found' } },
        },
      ],
    });
  });

  it('should serve Range requests with 206 and Dropbox-API-Result', async () => {
    await upload(
      'files/upload',
      JSON.stringify({ path: '/range.txt', mode: 'overwrite' }),
      Buffer.from('0123456789'),
    );
    const res = await fetch(`${emu.baseUrl}/content/2/files/download`, {
      method: 'POST',
      headers: {
        Authorization: auth,
        'Dropbox-API-Arg': '{"path":"/range.txt"}',
        Range: 'bytes=2-5',
      },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(JSON.parse(res.headers.get('dropbox-api-result')!)).toMatchObject({
      name: 'range.txt',
      size: 10,
    });
    expect(await res.text()).toBe('2345');
  });

  it('should page list_folder by limit and report deletions through the cursor', async () => {
    for (const n of ['a', 'b', 'c'])
      await upload(
        'files/upload',
        JSON.stringify({ path: `/pg/${n}`, mode: 'add' }),
        Buffer.from(n),
      );
    const first = (await (await rpc('files/list_folder', { path: '/pg', limit: 2 })).json()) as {
      entries: unknown[];
      cursor: string;
      has_more: boolean;
    };
    expect(first.entries).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const second = (await (
      await rpc('files/list_folder/continue', { cursor: first.cursor })
    ).json()) as { entries: unknown[]; cursor: string; has_more: boolean };
    expect(second.entries).toHaveLength(1);
    expect(second.has_more).toBe(false);
    await rpc('files/delete_v2', { path: '/pg/A' });
    const changes = (await (
      await rpc('files/list_folder/continue', { cursor: second.cursor })
    ).json()) as { entries: unknown[] };
    expect(changes.entries).toEqual([
      { '.tag': 'deleted', name: 'a', path_lower: '/pg/a', path_display: '/pg/a' },
    ]);
  });

  it('should refresh with the refresh token in the query string, as the SDK sends it', async () => {
    const res = await fetch(
      `${emu.baseUrl}/api/oauth2/token?grant_type=refresh_token&refresh_token=${emu.credentials.refreshToken}&client_id=${emu.credentials.clientId}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' } },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      access_token: expect.stringMatching(/^sl\./),
      token_type: 'bearer',
      expires_in: 14_400,
    });
    const bad = await fetch(
      `${emu.baseUrl}/api/oauth2/token?grant_type=refresh_token&refresh_token=nope&client_id=${emu.credentials.clientId}`,
      { method: 'POST' },
    );
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it("should show why the SDK's own filesDownload is bypassed: 10.34 needs res.buffer(), which global fetch lacks", async () => {
    await upload(
      'files/upload',
      JSON.stringify({ path: '/sdk.txt', mode: 'overwrite' }),
      Buffer.from('sdk'),
    );
    const sut = new Dropbox({
      accessToken: emu.credentials.accessToken,
      fetch: (url: string, init: RequestInit) =>
        fetch(url.replace('https://content.dropboxapi.com', emu.hosts.content), init),
    });
    await expect(sut.filesDownload({ path: '/sdk.txt' })).rejects.toThrow(
      /buffer is not a function/,
    );
  });
});
