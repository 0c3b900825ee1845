import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../emulators/dropbox/dropbox-emulator.js';

/**
 * Issue 20, Dropbox: the namespace headers, raw over HTTP. `Dropbox-API-Path-Root` is honoured
 * for the account's own namespace and refused with Dropbox's 422 path-root error for another
 * (it was ignored, so a client asking for a team space silently got the user's files);
 * `Dropbox-API-Select-User` belongs to team apps and is refused for a user's token.
 */
describe('dropbox emulator: namespace headers', () => {
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

  const list = (headers: Record<string, string>) =>
    fetch(`${emu.hosts.api}/2/files/list_folder`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ path: '/dir' }),
    });

  it('should serve the account namespace by home, root or namespace_id', async () => {
    for (const root of [
      { '.tag': 'home' },
      { '.tag': 'root', root: '1' },
      { '.tag': 'namespace_id', namespace_id: '1' },
    ]) {
      const res = await list({ 'Dropbox-API-Path-Root': JSON.stringify(root) });
      expect(res.status).toBe(200);
    }
  });

  it('should answer 422 invalid_root with the root info for another root', async () => {
    const res = await list({
      'Dropbox-API-Path-Root': JSON.stringify({ '.tag': 'root', root: '9999' }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error_summary: expect.stringMatching(/^invalid_root\//),
      error: {
        '.tag': 'invalid_root',
        invalid_root: { '.tag': 'user', root_namespace_id: '1', home_namespace_id: '1' },
      },
    });
  });

  it('should answer 422 no_permission for a namespace the user cannot reach', async () => {
    const res = await list({
      'Dropbox-API-Path-Root': JSON.stringify({ '.tag': 'namespace_id', namespace_id: '4242' }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { '.tag': string } }).error['.tag']).toBe(
      'no_permission',
    );
  });

  it('should refuse a malformed path root and team headers with 400 naming the header', async () => {
    const bad = await list({ 'Dropbox-API-Path-Root': '{"root":' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/Dropbox-API-Path-Root/);
    const team = await list({ 'Dropbox-API-Select-User': 'dbmid:AAAA' });
    expect(team.status).toBe(400);
    expect(await team.text()).toMatch(/Dropbox-API-Select-User/);
  });
});
