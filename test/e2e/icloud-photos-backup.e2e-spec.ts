import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startICloudPhotos, type ICloudPhotosCloud } from '../support/cloud-fixtures.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';
import type { AssetState } from '../../emulators/icloud-photos/library.js';

/**
 * iCloud Photos (a read-only source) backed up to a local folder through the real API, queue and
 * ledger, the account connected through the iCloud sign-in API with its second factor.
 */

interface RunEvent {
  level: string;
  code: string | null;
  message: string;
}

const FILTERED_IN = new Set(['HEIC', 'JPG']);

describe('iCloud Photos to a local folder', () => {
  let t: TestApp;
  let icloud: ICloudPhotosCloud;
  let localRoot: string;
  let icloudId: string;
  let localId: string;
  let taskId: string;

  beforeAll(async () => {
    icloud = await startICloudPhotos();
    t = await startTestApp();
    localRoot = await mkdtemp(join(tmpdir(), 'cbe-icloud-'));
    icloudId = await icloud.connect(t, 'Family photos');
    localId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'NAS', options: { root: localRoot, fsync: false } })
        .expect(201)
    ).body.id;
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({
          name: 'Photos to NAS',
          sourceAccountId: icloudId,
          targetAccountId: localId,
          targetPath: 'Photos',
          filter: { mode: 'include', extensions: 'heic, jpg' },
          concurrency: 3,
        })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await icloud?.stop();
    await rm(localRoot, { recursive: true, force: true });
  });

  const ext = (a: AssetState) => a.filename!.slice(a.filename!.lastIndexOf('.') + 1);
  /** Originals that pass the filter, as path -> sha256 (the live MOVs, PNG, DNG, CR2 do not). */
  const expectedOf = (assets: AssetState[]) =>
    Object.fromEntries(
      assets
        .filter((a) => FILTERED_IN.has(ext(a)))
        .map((a) => [icloud.originalPath(a), sha256(icloud.originalBytes(a))]),
    );
  /** Every file the connector shows for an asset: original, Live Photo video, RAW's JPEG/CR2 pair. */
  const filesOf = (a: AssetState) =>
    1 + (a.sizes.resOriginalVidCompl ? 1 : 0) + (a.sizes.resOriginalAlt ? 1 : 0);

  async function versionFiles(seq: number): Promise<Record<string, string>> {
    const base = join(localRoot, 'Photos');
    const folder = (await readdir(base)).find((f) =>
      f.startsWith(`v${String(seq).padStart(6, '0')}_`),
    );
    if (!folder) throw new Error(`no folder of version ${seq} in ${base}`);
    return hashTree(join(base, folder));
  }

  async function runTask(id = taskId): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${id}/run`).expect(202);
    return waitForRun(t.http, started.body.id as string, 60_000);
  }

  async function retryEvents(runId: string): Promise<RunEvent[]> {
    return (await t.http.get(`/api/runs/${runId}/events?level=retry`).expect(200))
      .body as RunEvent[];
  }

  it('should store the HEIC and JPG originals under All Photos/YYYY/MM, byte for byte', async () => {
    const assets = icloud.visibleAssets();
    const expected = expectedOf(assets);
    const run = await runTask();

    // The small library holds 4 HEIC and 5 JPG originals, one with a unicode name.
    expect(Object.keys(expected)).toHaveLength(9);
    expect(Object.keys(expected).some((p) => p.endsWith('/Été ☀ 11.JPG'))).toBe(true);
    const all = assets.reduce((n, a) => n + filesOf(a), 0);
    expect(run).toMatchObject({
      status: 'completed',
      filesTotal: 9,
      filesCopied: 9,
      filesFiltered: all - 9,
      filesFailed: 0,
      bytesCopied: assets
        .filter((a) => FILTERED_IN.has(ext(a)))
        .reduce((n, a) => n + a.sizes.resOriginal!, 0),
    });
    expect(await versionFiles(1)).toEqual(expected);
    for (const p of Object.keys(expected))
      expect(p).toMatch(/^All Photos\/2023\/(0[1-9]|1[0-2])\/[^/]+\.(HEIC|JPG)$/);
    expect(await readdir(join(localRoot, 'Photos', '.cbe-manifests'))).toEqual(['v000001.jsonl']);
  });

  it('should download nothing when run again over an unchanged library', async () => {
    icloud.clearRequestLog();
    const run = await runTask();

    expect(run).toMatchObject({ status: 'completed', filesCopied: 0, bytesCopied: 0 });
    expect(icloud.downloadRequests()).toEqual([]);
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
      status: string;
      fileCount: number;
    }>;
    expect(versions[0]).toMatchObject({ seq: 2, status: 'complete', fileCount: 9 });
  });

  it('should resume a photo download cut mid-body at the byte where it broke', async () => {
    // Asset 12 is a HEIC Live Photo: its HEIC passes the filter, its MOV does not.
    const added = icloud.emulator.control.addAsset({ assetDate: Date.UTC(2023, 10, 20, 12) });
    expect(ext(added)).toBe('HEIC');
    icloud.emulator.control.cutNextDownload(5_000);
    icloud.clearRequestLog();
    const run = await runTask();

    expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
    expect(await versionFiles(3)).toEqual(expectedOf([added]));
    expect(icloud.downloadRequests().map((d) => d.rangeStart)).toEqual([0, 5_000]);
    // Reopened inside the connector (Range from the broken byte): the engine saw one stream.
    expect(await retryEvents(run.id)).toEqual([]);
  });

  it('should wait out a 429 on CloudKit and a 503 with Retry-After on the CDN, and name both in the run log', async () => {
    const added = [
      icloud.emulator.control.addAsset({ assetDate: Date.UTC(2023, 10, 21, 12) }),
      icloud.emulator.control.addAsset({ assetDate: Date.UTC(2023, 10, 22, 12) }),
    ];
    expect(added.map(ext)).toEqual(['PNG', 'JPG']);
    icloud.emulator.control.rateLimitNext();
    icloud.emulator.control.throttle({ scope: 'cdn', status: 503, retryAfterSec: 1 });
    icloud.clearRequestLog();
    const run = await runTask();

    expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
    expect(await versionFiles(4)).toEqual(expectedOf(added));
    expect(icloud.downloadRequests().map((d) => d.status)).toEqual([503, 200]);
    const retries = await retryEvents(run.id);
    expect(retries.map((e) => e.code).sort()).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    const cdn = retries.filter((e) => e.message.startsWith('cdn download'));
    expect(cdn).toHaveLength(1);
    expect(Number(/retrying in (\d+) ms/.exec(cdn[0]!.message)?.[1])).toBeGreaterThanOrEqual(1000);
    expect(retries.filter((e) => e.message.startsWith('ck '))).toHaveLength(1);
  });

  it('should refuse iCloud Photos as a backup target with a message saying it cannot be written to', async () => {
    await writeTree(join(localRoot, 'to-icloud'), { 'a.jpg': patternBytes(100, 1) });
    // The task is accepted (the API does not check the target's capabilities); its run fails.
    const created = await t.http
      .post('/api/tasks')
      .send({
        name: 'into iCloud',
        sourceAccountId: localId,
        sourcePath: 'to-icloud',
        targetAccountId: icloudId,
        targetPath: 'Backups',
      })
      .expect(201);
    const run = await runTask(created.body.id as string);

    expect(run.status).toBe('failed');
    expect(run.errorMessage).toMatch(
      /^the target account \(icloud-photos\) cannot be written to: iCloud Photos is a read-only backup source/,
    );
    expect(run.filesCopied).toBe(0);
    const account = (await t.http.get(`/api/accounts/${icloudId}`).expect(200)).body;
    expect(account.state).toBe('connected'); // a refused target is not a credentials problem
    const versions = (await t.http.get(`/api/tasks/${created.body.id}/versions`).expect(200)).body;
    expect(versions).toEqual([]);
  });
});
