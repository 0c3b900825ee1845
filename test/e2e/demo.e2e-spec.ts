import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectOAuth, DemoApi, startDemo, waitForRun, type Demo } from '../../scripts/demo.js';
import { hashTree } from '../support/files.js';

/**
 * `npm run demo` as a newcomer meets it: every emulated cloud connected through the real flows
 * under the demo admin, the example task backs the photo library up, and its version restores.
 * Same `startDemo` as the command, on free ports and a temp folder, with a smaller library.
 */

const PHOTOS = 40;

interface AccountView {
  id: string;
  kind: string;
  name: string;
  state: string;
}

describe('demo mode', () => {
  let demo: Demo;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-demo-'));
    demo = await startDemo({
      dir,
      port: 0,
      cloudPorts: { 'google-drive': 0, onedrive: 0, dropbox: 0, 'icloud-photos': 0 },
      photos: PHOTOS,
    });
  }, 60_000);

  afterAll(async () => {
    await demo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should let the printed username and password sign in and see every cloud connected', async () => {
    // A fresh browser: no cookie until it signs in.
    const browser = new DemoApi(demo.url);
    const signedIn = await browser.signIn(demo.username, demo.password);
    expect(signedIn).toBe(demo.signInRequired);
    if (signedIn) {
      const anonymous = await new DemoApi(demo.url).request('GET', '/api/accounts');
      expect(anonymous.status).toBe(401);
    }
    const accounts = await browser.json<AccountView[]>('GET', '/api/accounts');
    expect(accounts.map((a) => a.kind).sort()).toEqual([
      'dropbox',
      'google-drive',
      'icloud-photos',
      'local',
      'onedrive',
    ]);
    for (const a of accounts) expect([a.kind, a.state]).toEqual([a.kind, 'connected']);

    // Each cloud lists its seeded folders through the stored tokens or session.
    const top = async (kind: string) => {
      const id = accounts.find((a) => a.kind === kind)!.id;
      const entries = await browser.json<Array<{ name: string }>>(
        'GET',
        `/api/accounts/${id}/browse`,
      );
      return entries.map((e) => e.name).sort();
    };
    expect(await top('google-drive')).toEqual(['Documents', 'Photos', 'Recipes']);
    expect(await top('onedrive')).toEqual(['Desktop', 'Documents', 'Pictures']);
    expect(await top('dropbox')).toEqual(['Camera Uploads', 'Shared with family', 'Work']);
    expect(await top('icloud-photos')).toEqual(['Albums', 'All Photos']);
  });

  let versionId: string;

  it('should back the photo library up with the example task, byte for byte', async () => {
    const task = demo.tasks.find((t) => t.name === 'iCloud Photos to this computer')!;
    const started = await demo.api.json<{ id: string }>('POST', `/api/tasks/${task.id}/run`);
    const run = await waitForRun(demo.api, started.id);
    expect(run).toMatchObject({ status: 'completed', filesCopied: PHOTOS, filesFailed: 0 });
    versionId = run.versionId!;

    const tree = await hashTree(join(demo.backupsDir, 'iCloud Photos'));
    const photos = Object.keys(tree).filter((p) => p.endsWith('.JPG'));
    expect(photos).toHaveLength(PHOTOS);
    for (const p of photos) expect(p).toMatch(/^v000001_[^/]+\/2025\/0[6-9]\/IMG_\d{4}\.JPG$/);
    const original = await readFile(join(dir, 'emulators', 'icloud-photos', 'IMG_0001.JPG'));
    const copy = photos.find((p) => p.endsWith('/IMG_0001.JPG'))!;
    const stored = await readFile(join(demo.backupsDir, 'iCloud Photos', copy));
    expect(stored.equals(original)).toBe(true);
    // Real pictures: JPEG start and end markers.
    expect(stored.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(stored.subarray(-2).toString('hex')).toBe('ffd9');
  });

  it('should restore that version into the local folder, every file identical', async () => {
    const local = demo.accounts.find((a) => a.kind === 'local')!;
    const started = await demo.api.json<{ id: string }>(
      'POST',
      `/api/versions/${versionId}/restore`,
      { destination: { accountId: local.id, path: 'Restored' } },
    );
    const run = await waitForRun(demo.api, started.id);
    expect(run).toMatchObject({ status: 'completed', filesCopied: PHOTOS, filesFailed: 0 });

    const backup = await hashTree(join(demo.backupsDir, 'iCloud Photos'));
    const restored = await hashTree(join(demo.backupsDir, 'Restored'));
    const versionFolder = Object.keys(backup)
      .find((p) => p.startsWith('v000001_'))!
      .split('/')[0]!;
    const expected = Object.fromEntries(
      Object.entries(backup)
        .filter(([p]) => p.startsWith(`${versionFolder}/`))
        .map(([p, h]) => [p.slice(versionFolder.length + 1), h]),
    );
    expect(restored).toEqual(expected);
  });

  it('should run the cloud-to-cloud example task too', async () => {
    const task = demo.tasks.find((t) => t.name === 'Google Drive to Dropbox')!;
    const started = await demo.api.json<{ id: string }>('POST', `/api/tasks/${task.id}/run`);
    const run = await waitForRun(demo.api, started.id);
    // 5 documents, 12 photos (one of 3.5 MB) and an 8 MB video.
    expect(run).toMatchObject({ status: 'completed', filesCopied: 18, filesFailed: 0 });
    expect((run as unknown as { bytesCopied: number }).bytesCopied).toBeGreaterThan(11_000_000);
  });

  it('should send "Add a cloud" to the emulated consent page, as the web UI asks with a name only', async () => {
    // The web UI sends the kind and a name; the demo's OAuth app defaults carry the emulators'
    // addresses. Without them the flow would start at accounts.google.com, unreachable here.
    for (const kind of ['google-drive', 'onedrive', 'dropbox'] as const) {
      const { authorizeUrl } = await demo.api.json<{ authorizeUrl: string }>(
        'POST',
        '/api/accounts/connect',
        { kind, name: `Another ${kind}` },
      );
      expect([kind, new URL(authorizeUrl).hostname]).toEqual([kind, '127.0.0.1']);
    }
    const id = await connectOAuth(demo.api, 'dropbox', 'A second Dropbox', {});
    const account = await demo.api.json<AccountView>('GET', `/api/accounts/${id}`);
    expect(account).toMatchObject({ kind: 'dropbox', state: 'connected' });
    const top = await demo.api.json<Array<{ name: string }>>('GET', `/api/accounts/${id}/browse`);
    // The same emulated Dropbox account as the demo's (the example task above may have added a folder).
    expect(top.map((e) => e.name)).toEqual(
      expect.arrayContaining(['Camera Uploads', 'Shared with family', 'Work']),
    );
  });
});
