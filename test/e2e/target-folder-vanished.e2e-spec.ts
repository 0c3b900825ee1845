import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import { createDropboxForTest } from '../support/connectors/dropbox.js';
import { startDropboxEmulator } from '../../emulators/dropbox/dropbox-emulator.js';
import { createGoogleDriveForTest } from '../support/connectors/google-drive.js';
import { startGoogleDriveEmulator } from '../../emulators/google-drive/google-drive.emulator.js';
import { createSqliteDatabase, type TestDatabase } from '../support/databases.js';
import { patternBytes, writeTree } from '../support/files.js';
import { slowLocalDescriptor } from '../support/slow-local-connector.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

interface VersionView {
  seq: number;
  status: string;
}

/** A cloud emulator, the account options pointing at it, and a way to delete a folder in it. */
interface Cloud {
  options: Record<string, unknown>;
  removeFolder(path: string): Promise<void>;
  stop(): Promise<void>;
}

const CLOUDS: Array<[string, string, () => Promise<Cloud>]> = [
  [
    'Google Drive',
    'google-drive',
    async () => {
      const emu = await startGoogleDriveEmulator({ fixtures: false });
      const c = emu.credentials;
      return {
        options: {
          clientId: c.clientId,
          clientSecret: c.clientSecret,
          refreshToken: c.refreshToken,
          apiBaseUrl: c.apiBaseUrl,
          tokenUrl: c.tokenUrl,
          authorizeUrl: c.authorizeUrl,
          revokeUrl: c.revokeUrl,
        },
        removeFolder: (path) => createGoogleDriveForTest(emu).remove(path),
        stop: () => emu.stop(),
      };
    },
  ],
  [
    'Dropbox',
    'dropbox',
    async () => {
      const emu = await startDropboxEmulator({ maxLongpollMs: 200 });
      return {
        options: {
          clientId: emu.credentials.clientId,
          clientSecret: emu.credentials.clientSecret,
          refreshToken: emu.credentials.refreshToken,
          apiBaseUrl: emu.hosts.api,
          contentBaseUrl: emu.hosts.content,
          notifyBaseUrl: emu.hosts.notify,
          authorizeBaseUrl: emu.hosts.www,
        },
        removeFolder: (path) => createDropboxForTest(emu).connector.remove(path),
        stop: () => emu.stop(),
      };
    },
  ],
];

const FILES = 12;
const tree = (seed: number) =>
  Object.fromEntries(
    Array.from({ length: FILES }, (_, i) => [`f${i}.bin`, patternBytes(8000 + i, seed + i)]),
  );

/**
 * Issue 18: the task's folder in a cloud target deleted while a run writes into it. Cloud
 * writes create missing parents, so the run went on into a new folder holding only the files
 * written after the deletion, and could commit a version whose other files were gone. The
 * source is a slow local folder (each read starts 120 ms late) so the deletion lands mid-run.
 */
describe.each(CLOUDS)('a %s target folder deleted during a run', (_name, kind, startCloud) => {
  let t: TestApp;
  let db: TestDatabase;
  let dir: string;
  let cloud: Cloud;
  let taskId: string;

  async function backup(): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  beforeAll(async () => {
    db = await createSqliteDatabase();
    t = await startTestApp({
      db,
      registry: new ConnectorRegistry([...CONNECTOR_DESCRIPTORS, slowLocalDescriptor]),
    });
    dir = await mkdtemp(join(tmpdir(), 'cbe-vanish-'));
    cloud = await startCloud();
    await writeTree(join(dir, 'src'), tree(1));
    const srcId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'slow-local', name: 'src', options: { root: join(dir, 'src') } })
        .expect(201)
    ).body.id;
    const driveId = (
      await t.http
        .post('/api/accounts')
        .send({ kind, name: 'cloud', options: cloud.options })
        .expect(201)
    ).body.id;
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({
          name: 'docs',
          sourceAccountId: srcId,
          targetAccountId: driveId,
          targetPath: 'Backups',
          concurrency: 1,
        })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should end the run offline and commit nothing, when the folder is deleted mid-run', async () => {
    expect(await backup()).toMatchObject({ status: 'completed', filesCopied: FILES });
    await writeTree(join(dir, 'src'), tree(100)); // every file changed: run 2 writes them all

    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    for (;;) {
      const r = (await t.http.get(`/api/runs/${started.body.id}`).expect(200)).body as RunView;
      if (r.status !== 'queued' && r.status !== 'running')
        throw new Error(`run ended before the deletion: ${JSON.stringify(r)}`);
      if (r.filesCopied >= 2) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    // Someone deletes the task's folder in the cloud's own UI (through its public API here).
    await cloud.removeFolder('Backups');
    const done = await waitForRun(t.http, started.body.id);

    expect(done.status).toBe('offline');
    expect(done.errorMessage).toMatch(/the folder 'Backups.*' vanished during the run/);
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
      .body as VersionView[];
    expect(versions.map((v) => [v.seq, v.status])).toEqual([
      [2, 'partial'],
      [1, 'complete'],
    ]);

    // The next run: the folder is gone, or (where run 2's writes made it again) another folder
    // at the same path, which does not hold version 1's files. Neither is backed up into.
    const next = await backup();
    expect(next.status).toBe('offline');
    expect(next.errorMessage).toMatch(
      /the folder 'Backups'(, which holds the earlier versions, is not there| is not the one that holds the earlier versions)/,
    );
    const after = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
      .body as VersionView[];
    expect(after.filter((v) => v.status === 'complete').map((v) => v.seq)).toEqual([1]);
  });
});
