import { request } from 'node:http';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../../emulators/google-drive/google-drive.emulator.js';

/**
 * Issue 20, Google Drive: each request exactly as an independent client sends it to the real
 * service, raw over HTTP (no connector, no SDK).
 */
describe('google-drive emulator: what real clients send', () => {
  let emu: GoogleDriveEmulator;
  let auth: Record<string, string>;
  let folderId: string;

  beforeAll(async () => {
    emu = await startGoogleDriveEmulator({ fixtures: false });
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    folderId = emu.seed.folder('docs').id;
    await emu.seed.file('docs/x', 'xx', { mimeType: 'text/plain' });
    await emu.seed.file('docs/y', 'yyy', { mimeType: 'text/plain' });
    await emu.seed.file('docs/z', 'zzzz', { mimeType: 'text/plain' });
    emu.seed.folder('docs/sub');
    await emu.seed.file('top.txt', 'top', { mimeType: 'text/plain' });
  });

  afterAll(async () => {
    await emu.stop();
  });

  async function names(q: string): Promise<string[]> {
    const res = await fetch(
      `${emu.baseUrl}/drive/v3/files?q=${encodeURIComponent(q)}&fields=files(name)`,
      { headers: auth },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { files: Array<{ name: string }> };
    return body.files.map((f) => f.name).sort();
  }

  it('should answer the and/or/not/parentheses queries real clients send', async () => {
    expect(await names(`trashed=false and ('${folderId}' in parents)`)).toEqual([
      'sub',
      'x',
      'y',
      'z',
    ]);
    expect(await names(`'${folderId}' in parents and (name='x' or name='y')`)).toEqual(['x', 'y']);
    expect(
      await names(
        `'${folderId}' in parents and (mimeType='application/vnd.google-apps.folder' or mimeType='application/vnd.google-apps.shortcut')`,
      ),
    ).toEqual(['sub']);
    expect(await names(`'${folderId}' in parents and not name = 'x' and not (name='y')`)).toEqual([
      'sub',
      'z',
    ]);
    expect(
      await names(`'${folderId}' in parents and modifiedTime > '2000-01-01T00:00:00'`),
    ).toHaveLength(4);
    expect(
      await names(`'${folderId}' in parents and modifiedTime < '2000-01-01T00:00:00'`),
    ).toEqual([]);
  });

  it("should list the root's children for 'root' in parents", async () => {
    expect(await names(`'root' in parents and trashed = false`)).toEqual(['docs', 'top.txt']);
  });

  it('should match properties with has and refuse what the grammar does not allow', async () => {
    const res = await fetch(`${emu.baseUrl}/drive/v3/files`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'tagged', properties: { dept: 'finance' }, starred: true }),
    });
    expect(res.status).toBe(200);
    expect(await names(`properties has { key='dept' and value='finance' }`)).toEqual(['tagged']);
    expect(await names(`starred = true`)).toEqual(['tagged']);
    for (const bad of [
      `name = 'x' and`,
      `(name = 'x'`,
      `name > 'x'`,
      `trashed = 'false'`,
      `bogus = 'x'`,
      `name = 'x' or or name = 'y'`,
    ]) {
      const r = await fetch(`${emu.baseUrl}/drive/v3/files?q=${encodeURIComponent(bad)}`, {
        headers: auth,
      });
      expect([bad, r.status]).toEqual([bad, 400]);
      expect(await r.json()).toMatchObject({
        error: { code: 400, errors: [{ reason: 'invalid', location: 'q' }] },
      });
    }
  });

  it('should take chunks POSTed to the resumable session URI like PUT ones', async () => {
    const start = await fetch(`${emu.baseUrl}/upload/drive/v3/files?uploadType=resumable`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json; charset=UTF-8' },
      body: JSON.stringify({ name: 'posted.bin', parents: [folderId] }),
    });
    expect(start.status).toBe(200);
    const session = start.headers
      .get('location')!
      .replace('https://www.googleapis.com', emu.baseUrl);
    const data = Buffer.alloc(256 * 1024 + 10, 7);
    const first = await fetch(session, {
      method: 'POST',
      headers: { ...auth, 'Content-Range': `bytes 0-${256 * 1024 - 1}/${data.length}` },
      body: data.subarray(0, 256 * 1024),
    });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);
    const last = await fetch(session, {
      method: 'POST',
      headers: {
        ...auth,
        'Content-Range': `bytes ${256 * 1024}-${data.length - 1}/${data.length}`,
      },
      body: data.subarray(256 * 1024),
    });
    expect(last.status).toBe(200);
    const file = (await last.json()) as { id: string };
    expect((await emu.content(file.id)).equals(data)).toBe(true);
  });

  it('should report export and import formats and the real storage usage in about', async () => {
    const res = await fetch(
      `${emu.baseUrl}/drive/v3/about?fields=exportFormats,importFormats,storageQuota`,
      { headers: auth },
    );
    expect(res.status).toBe(200);
    const about = (await res.json()) as {
      exportFormats: Record<string, string[]>;
      importFormats: Record<string, string[]>;
      storageQuota: { usage: string; limit: string };
    };
    expect(about.exportFormats['application/vnd.google-apps.document']).toContain(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(about.exportFormats['application/vnd.google-apps.spreadsheet']).toContain('text/csv');
    expect(about.importFormats['text/csv']).toEqual(['application/vnd.google-apps.spreadsheet']);
    // x, y, z, top.txt and the posted file: 2 + 3 + 4 + 3 + 262154
    expect(Number(about.storageQuota.usage)).toBe(2 + 3 + 4 + 3 + 256 * 1024 + 10);
  });

  it('should answer under any Host name, as behind a TLS front', async () => {
    const { port } = new URL(emu.baseUrl);
    const status = await new Promise<number>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port,
          path: '/drive/v3/files?q=%27root%27+in+parents',
          headers: { ...auth, Host: 'www.googleapis.com' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });
});
