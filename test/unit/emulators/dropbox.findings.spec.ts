import { connect } from 'node:net';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../emulators/dropbox/dropbox-emulator.js';

/**
 * Issue 20, Dropbox: each request exactly as an independent client sends it to the real service,
 * raw over HTTP (node:http where the header bytes themselves matter).
 */
describe('dropbox emulator: what real clients send', () => {
  let emu: DropboxEmulator;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emu = await startDropboxEmulator();
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    await emu.seedFile('/dir/a.txt', 'alpha');
  });

  afterAll(async () => {
    await emu.stop();
  });

  it('should list //dir as /dir', async () => {
    const res = await fetch(`${emu.hosts.api}/2/files/list_folder`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: '//dir' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entries: Array<{ path_display: string }> };
    expect(body.entries.map((e) => e.path_display)).toEqual(['/dir/a.txt']);
  });

  /** Sends the header bytes exactly as given, over a raw socket (clients encode header strings). */
  function upload(arg: Buffer): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(emu.baseUrl);
    const head = Buffer.concat([
      Buffer.from(
        `POST /content/2/files/upload HTTP/1.1\r\nHost: content.dropboxapi.com\r\n` +
          `Authorization: ${auth.Authorization}\r\nContent-Type: application/octet-stream\r\n` +
          `Content-Length: 5\r\nConnection: close\r\nDropbox-API-Arg: `,
      ),
      arg,
      Buffer.from('\r\n\r\nbytes'),
    ]);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(Number(port), hostname, () => socket.write(head));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0);
        resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      });
    });
  }

  it('should take raw UTF-8 in Dropbox-API-Arg and refuse Latin-1 bytes', async () => {
    const utf8 = await upload(Buffer.from(JSON.stringify({ path: '/dir/café ☕.txt' }), 'utf8'));
    expect(utf8.status).toBe(200);
    expect(JSON.parse(utf8.body)).toMatchObject({ name: 'café ☕.txt' });
    const latin1 = await upload(Buffer.from(JSON.stringify({ path: '/dir/café.txt' }), 'latin1'));
    expect(latin1.status).toBe(400);
    expect(latin1.body).toContain('Dropbox-API-Arg');
  });

  it('should refresh a token at the legacy /1/oauth2/token path', async () => {
    const res = await fetch(`${emu.hosts.api}/1/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: emu.credentials.refreshToken,
        client_id: emu.credentials.clientId,
        client_secret: emu.credentials.clientSecret,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'bearer' });
  });

  it('should resolve the ns: and id:-relative path forms', async () => {
    const rpc = (route: string, arg: unknown) =>
      fetch(`${emu.hosts.api}/2/${route}`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(arg),
      });
    const byNs = await rpc('files/list_folder', { path: 'ns:1/dir' });
    expect(byNs.status).toBe(200);
    const dir = (await (await rpc('files/get_metadata', { path: '/dir' })).json()) as {
      id: string;
    };
    const byId = await rpc('files/get_metadata', { path: `${dir.id}/a.txt` });
    expect(byId.status).toBe(200);
    expect(await byId.json()).toMatchObject({ path_display: '/dir/a.txt' });
    const otherNs = await rpc('files/get_metadata', { path: 'ns:999/dir' });
    expect(otherNs.status).toBe(409);
    expect(await otherNs.json()).toMatchObject({
      error: { '.tag': 'path', path: { '.tag': 'not_found' } },
    });
  });
});
