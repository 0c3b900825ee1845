import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startICloudPhotos, type ICloudPhotosCloud } from '../support/cloud-fixtures.js';
import { sha256 } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Restore into iCloud Photos where the photo came from: backed up iCloud -> local folder, the
 * photo deleted in iCloud, then the version restored to the original account. Refused with the
 * account's `experimentalUpload` off, uploaded through the photosupload flow once it is on.
 */
describe('restore to the original iCloud Photos location', () => {
  let t: TestApp;
  let icloud: ICloudPhotosCloud;
  let localRoot: string;
  let icloudId: string;
  let taskId: string;
  let versionId: string;

  beforeAll(async () => {
    icloud = await startICloudPhotos();
    t = await startTestApp();
    localRoot = await mkdtemp(join(tmpdir(), 'cbe-icloud-restore-'));
    icloudId = await icloud.connect(t, 'Photos');
    const localId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'NAS', options: { root: localRoot, fsync: false } })
        .expect(201)
    ).body.id as string;
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({
          name: 'Photos to NAS',
          sourceAccountId: icloudId,
          targetAccountId: localId,
          targetPath: 'Photos',
          filter: { mode: 'include', extensions: 'heic, jpg' },
        })
        .expect(201)
    ).body.id as string;
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id as string, 60_000);
    expect(run.status).toBe('completed');
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      id: string;
    }>;
    versionId = versions[0]!.id;
  });

  afterAll(async () => {
    await t?.close();
    await icloud?.stop();
    await rm(localRoot, { recursive: true, force: true });
  });

  async function restore(paths: string[]): Promise<RunView> {
    const started = await t.http
      .post(`/api/versions/${versionId}/restore`)
      .send({ paths })
      .expect(202);
    return waitForRun(t.http, started.body.id as string, 60_000);
  }

  const deletedJpeg = () => {
    const a = icloud.visibleAssets().find((x) => x.filename?.endsWith('.JPG') && !x.upload)!;
    const path = icloud.originalPath(a);
    const bytes = icloud.originalBytes(a);
    icloud.emulator.control.deleteAsset(a.assetId);
    return { a, path, bytes };
  };

  it('should fail the restore run saying why iCloud cannot be written to when experimentalUpload is off', async () => {
    const { path } = deletedJpeg();
    const run = await restore([path]);

    expect(run.status).toBe('failed');
    // The connector's own reason reaches the run: why, and where to restore instead.
    expect(run.errorMessage).toContain('iCloud Photos is a read-only backup source');
    expect(run.errorMessage).toContain('a restore must target another location');
    expect(run.errorMessage).toContain("'Experimental upload'");
    expect(icloud.emulator.requestLog.entries.some((e) => e.endpoint.startsWith('upload'))).toBe(
      false,
    );
  });

  it('should upload the deleted photo back with the same bytes when experimentalUpload is turned on', async () => {
    const { a, path, bytes } = deletedJpeg();
    await t.http
      .patch(`/api/accounts/${icloudId}`)
      .send({
        options: {
          appleId: icloud.emulator.credentials.appleId,
          ...icloud.options,
          experimentalUpload: true,
        },
      })
      .expect(200);
    icloud.clearRequestLog();
    const run = await restore([path]);

    expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
    const back = icloud.emulator.primary.assets.filter(
      (x) => x.upload && x.filename === a.filename && !x.deleted,
    );
    expect(back).toHaveLength(1);
    expect(sha256(icloud.emulator.expectedBytes(back[0]!, 'resOriginal'))).toBe(sha256(bytes));
    expect(back[0]!.assetDate).toBe(a.assetDate);
    expect(icloud.visibleAssets().some((x) => x.assetId === back[0]!.assetId)).toBe(true);
    const endpoints = icloud.emulator.requestLog.entries.map((e) => e.endpoint);
    expect(endpoints.filter((e) => e.startsWith('upload'))).toEqual([
      'upload createUploadUrl',
      'upload content',
      'upload putAsset',
    ]);
  });
});
