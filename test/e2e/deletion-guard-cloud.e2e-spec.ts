import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../emulators/dropbox/dropbox-emulator.js';
import { createDropboxForTest, dropboxPhotosToUsbTask } from '../support/connectors/dropbox.js';
import { patternBytes } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Issue 18, item 2 with a cloud source: the account was reset (or the folder emptied by a sync
 * client) and the source suddenly lists nothing. The version is held and keepLast 1 prunes
 * nothing.
 */
describe('deletion guard with a cloud source that suddenly lists nothing', () => {
  let t: TestApp;
  let emulator: DropboxEmulator;
  let dir: string;
  let taskId: string;

  beforeAll(async () => {
    emulator = await startDropboxEmulator({ maxLongpollMs: 200 });
    t = await startTestApp();
    dir = await mkdtemp(join(tmpdir(), 'cbe-guard-cloud-'));
    await mkdir(join(dir, 'usb'));
    for (let i = 0; i < 24; i++)
      await emulator.seedFile(`/Photos/IMG_${i}.jpg`, patternBytes(2000 + i, i + 1));
    taskId = await dropboxPhotosToUsbTask(t, emulator, join(dir, 'usb'));
    await t.http.put(`/api/tasks/${taskId}/retention`).send({ keepLast: 1 }).expect(200);
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function backup(): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id);
    for (;;) {
      const runs = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as RunView[];
      if (!runs.some((r) => r.status === 'queued' || r.status === 'running')) return run;
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  it('should hold the empty version and prune nothing', async () => {
    expect(await backup()).toMatchObject({ status: 'completed', filesCopied: 24 });
    const { connector } = createDropboxForTest(emulator);
    for (let i = 0; i < 24; i++) await connector.remove(`Photos/IMG_${i}.jpg`);

    const run = await backup();

    expect(run.status).toBe('warning');
    expect(run.errorMessage).toContain('listed no files at all');
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
      status: string;
      fileCount: number;
    }>;
    expect(versions.map((v) => [v.seq, v.status, v.fileCount]).sort()).toEqual([
      [1, 'complete', 24],
      [2, 'held', 0],
    ]);
  });
});
