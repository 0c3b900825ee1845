import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../../emulators/google-drive/google-drive.emulator.js';

/**
 * Issue 20, Google Drive `fields`: the partial-response grammar in full (nested `a(b,c)`, `a/b`,
 * `*`) on every method that takes it, and Drive's own 400 for a selection naming a field the
 * resource does not have ("Invalid field selection x", reason invalidParameter, location fields)
 * instead of dropping it. Raw HTTP, no SDK.
 */
interface DriveError {
  error: {
    code: number;
    message: string;
    errors: Array<{ reason: string; location: string; locationType: string; message: string }>;
  };
}

describe('google-drive emulator: fields selection', () => {
  let emu: GoogleDriveEmulator;
  let auth: Record<string, string>;
  let fileId: string;
  let folderId: string;

  beforeAll(async () => {
    emu = await startGoogleDriveEmulator({ fixtures: false });
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    folderId = emu.seed.folder('f').id;
    fileId = (await emu.seed.file('f/a.txt', 'aaa', { mimeType: 'text/plain' })).id;
  });

  afterAll(async () => {
    await emu.stop();
  });

  const api = (path: string) => `${emu.baseUrl}/drive/v3/${path}`;
  const fields = (f: string) => `fields=${encodeURIComponent(f)}`;

  async function ok(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
    const res = await fetch(api(path), { ...init, headers: { ...auth, ...init.headers } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  async function invalid(path: string, name: string, init: RequestInit = {}): Promise<void> {
    const res = await fetch(api(path), { ...init, headers: { ...auth, ...init.headers } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as DriveError;
    expect(body.error.code).toBe(400);
    expect(body.error.message).toBe(`Invalid field selection ${name}`);
    expect(body.error.errors[0]).toMatchObject({
      reason: 'invalidParameter',
      location: 'fields',
      locationType: 'parameter',
      message: `Invalid field selection ${name}`,
    });
  }

  it('should take nested, slash and star selections on files.get and files.list', async () => {
    expect(await ok(`files/${fileId}?${fields('id, name, parents')}`)).toEqual({
      id: fileId,
      name: 'a.txt',
      parents: [folderId],
    });
    const slash = await ok(`files/${fileId}?${fields('capabilities/canDownload,id')}`);
    expect(slash).toEqual({ id: fileId, capabilities: { canDownload: true } });
    const star = await ok(`files/${fileId}?${fields('*')}`);
    expect(star).toMatchObject({ id: fileId, md5Checksum: expect.any(String), size: '3' });
    const q = encodeURIComponent(`'${folderId}' in parents`);
    const list = await ok(`files?q=${q}&${fields('nextPageToken,files(id,name,parents)')}`);
    expect(list).toEqual({ files: [{ id: fileId, name: 'a.txt', parents: [folderId] }] });
    const listSlash = await ok(`files?q=${q}&${fields('files/name,kind')}`);
    expect(listSlash).toEqual({ kind: 'drive#fileList', files: [{ name: 'a.txt' }] });
    const listStar = await ok(`files?q=${q}&${fields('files(*)')}`);
    expect((listStar.files as Array<Record<string, unknown>>)[0]).toMatchObject({
      sha256Checksum: expect.any(String),
    });
  });

  it('should refuse unknown fields with Drive error body on get, list, about and changes', async () => {
    await invalid(`files/${fileId}?${fields('id,bogus')}`, 'bogus');
    await invalid(`files?${fields('items(id,title)')}`, 'items');
    await invalid(`files?${fields('files(id,title)')}`, 'title');
    await invalid(`files?${fields('starred')}`, 'starred');
    await invalid(`files/${fileId}?${fields('capabilities/canDoAnything/deep')}`, 'deep');
    await invalid(`about?${fields('user,quota')}`, 'quota');
    await invalid(`about?${fields('storageQuota(used)')}`, 'used');
    await invalid(`changes?pageToken=1&${fields('changes(fileId,files)')}`, 'files');
    await invalid(`changes/startPageToken?${fields('token')}`, 'token');
    await invalid(`drives?${fields('drives(id,title)')}`, 'title');
  });

  it('should refuse a malformed selection', async () => {
    const res = await fetch(api(`files/${fileId}?${fields('files(id')}`), { headers: auth });
    expect(res.status).toBe(400);
    const body = (await res.json()) as DriveError;
    expect(body.error.errors[0]).toMatchObject({ reason: 'invalidParameter', location: 'fields' });
  });

  it('should refuse bad fields on create and update before changing anything', async () => {
    await invalid(`files?${fields('id,title')}`, 'title', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'never.txt', parents: [folderId] }),
    });
    const list = await ok(
      `files?q=${encodeURIComponent("name='never.txt'")}&${fields('files(id)')}`,
    );
    expect(list.files).toEqual([]);
    await invalid(`files/${fileId}?${fields('title')}`, 'title', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'renamed.txt' }),
    });
    expect((await ok(`files/${fileId}?${fields('name')}`)).name).toBe('a.txt');
    const upload = await fetch(
      `${emu.baseUrl}/upload/drive/v3/files?uploadType=media&${fields('id,title')}`,
      { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: 'x' },
    );
    expect(upload.status).toBe(400);
    const created = await ok(`files?${fields('id,name,mimeType')}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'made.txt', parents: [folderId] }),
    });
    expect(Object.keys(created).sort()).toEqual(['id', 'mimeType', 'name']);
  });

  it('should select on about, changes, startPageToken and drives', async () => {
    expect(await ok(`about?${fields('storageQuota/usage,user(emailAddress)')}`)).toEqual({
      storageQuota: { usage: expect.any(String) },
      user: { emailAddress: expect.any(String) },
    });
    expect(await ok(`changes/startPageToken?${fields('startPageToken')}`)).toEqual({
      startPageToken: expect.any(String),
    });
    const changes = await ok(
      `changes?pageToken=1&${fields('newStartPageToken,nextPageToken,changes(fileId,removed,file/name)')}`,
    );
    const first = (changes.changes as Array<Record<string, unknown>>)[0]!;
    expect(Object.keys(first).every((k) => ['fileId', 'removed', 'file'].includes(k))).toBe(true);
    expect(await ok(`drives?${fields('drives(id,name)')}`)).toEqual({ drives: [] });
  });
});
