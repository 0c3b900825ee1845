import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import {
  WRITABLE_CLOUD_KINDS,
  registeredWritableClouds,
  type CloudFixture,
  type WritableCloud,
} from '../support/cloud-fixtures.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Backups between the local connector and each emulated cloud through the real API, queue and
 * ledger (SQLite): local -> cloud and cloud -> local, incremental re-runs, and faults injected
 * mid-transfer by the emulator, each proven by byte-identical files and the request log.
 */

interface RunEvent {
  level: string;
  path: string | null;
  code: string | null;
  message: string;
}

type Tree = Record<string, Buffer>;

const hashes = (t: Tree): Record<string, string> =>
  Object.fromEntries(Object.entries(t).map(([p, b]) => [p, sha256(b)]));

/** Splits a target tree into version folders and manifests: folder -> rel -> bytes. */
function byVersionFolder(t: Tree): Record<string, Tree> {
  const out: Record<string, Tree> = {};
  for (const [rel, b] of Object.entries(t)) {
    const [folder, ...rest] = rel.split('/');
    (out[folder!] ??= {})[rest.join('/')] = b;
  }
  return out;
}

function versionFolder(folders: Record<string, Tree>, seq: number): Tree {
  const prefix = `v${String(seq).padStart(6, '0')}_`;
  const names = Object.keys(folders).filter((f) => f.startsWith(prefix));
  expect(names).toHaveLength(1);
  return folders[names[0]!]!;
}

async function runTask(t: TestApp, taskId: string): Promise<RunView> {
  const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
  return waitForRun(t.http, started.body.id as string, 60_000);
}

async function retryEvents(t: TestApp, runId: string): Promise<RunEvent[]> {
  return (await t.http.get(`/api/runs/${runId}/events?level=retry`).expect(200)).body as RunEvent[];
}

/** The delay a retry event announces ("...; retrying in 1000 ms"). */
function announcedDelay(e: RunEvent): number {
  return Number(/retrying in (\d+) ms/.exec(e.message)?.[1] ?? NaN);
}

const clouds = registeredWritableClouds();

describe.each(clouds.map((c) => [c.kind, c] as [string, CloudFixture]))(
  'backups between a local folder and %s',
  (_kind, fixture) => {
    const changeFeed = new ConnectorRegistry().get(fixture.kind).capabilities.changeFeed;
    let t: TestApp;
    let cloud: WritableCloud;
    let localRoot: string;
    let cloudAccountId: string;
    let localAccountId: string;

    beforeAll(async () => {
      cloud = await fixture.start();
      t = await startTestApp();
      localRoot = await mkdtemp(join(tmpdir(), 'cbe-clouds-'));
      cloudAccountId = (
        await t.http
          .post('/api/accounts')
          .send({
            kind: fixture.kind,
            name: `emulated ${fixture.kind}`,
            options: cloud.accountOptions,
          })
          .expect(201)
      ).body.id;
      localAccountId = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'this machine', options: { root: localRoot, fsync: false } })
          .expect(201)
      ).body.id;
    });

    afterAll(async () => {
      await t?.close();
      await cloud?.stop();
      await rm(localRoot, { recursive: true, force: true });
    });

    describe('local -> cloud', () => {
      let taskId: string;
      const src = () => join(localRoot, 'src');
      const chunk = () => cloud.uploadChunkSize;
      /** What the source holds now (kept in step with every change the tests make). */
      const source: Tree = {};
      const filtered = ['tmp/skip-me.tmp', 'tmp/Also.TMP'];

      const cloudTree = async () => byVersionFolder(await cloud.readTree('Backups'));
      const touch = async (rel: string, content: Buffer, secondsAhead: number) => {
        source[rel] = content;
        const abs = join(src(), ...rel.split('/'));
        await writeFile(abs, content);
        const at = new Date(Date.now() + secondsAhead * 1000);
        await utimes(abs, at, at);
      };

      beforeAll(async () => {
        Object.assign(source, {
          'photos/IMG_0001.jpg': patternBytes(30_000, 1),
          'photos/IMG_0002.JPG': patternBytes(12_345, 2),
          'photos/été ☀/plage #1 100%.jpg': patternBytes(9_000, 3),
          'docs/naïve café.txt': patternBytes(700, 4),
          'docs/日本語のファイル.txt': patternBytes(1_500, 5),
          'docs/emoji 😀 party.png': patternBytes(4_000, 6),
          "docs/it's (a) [test] {x}.txt": patternBytes(300, 7),
          'docs/a+b=c & d.txt': patternBytes(301, 8),
          'docs/semi;colon,comma.txt': patternBytes(302, 9),
          'docs/percent%20not decoded.txt': patternBytes(303, 10),
          'empty.bin': Buffer.alloc(0),
          'big/video.mov': patternBytes(3 * chunk() + 12_345, 11),
          'big/exactly one chunk.bin': patternBytes(chunk(), 12),
          'deep/a/b/c/d/e/leaf.txt': patternBytes(50, 13),
          'Ünïcödé/Größe.md': patternBytes(2_000, 14),
          'space name/with  two  spaces.txt': patternBytes(99, 15),
          'dots/.hidden': patternBytes(10, 16),
          'dots/archive.tar.gz': patternBytes(5_000, 17),
        });
        await writeTree(src(), {
          ...source,
          [filtered[0]!]: patternBytes(100, 90),
          [filtered[1]!]: patternBytes(100, 91),
        });
        const task = await t.http
          .post('/api/tasks')
          .send({
            name: `local to ${fixture.kind}`,
            sourceAccountId: localAccountId,
            sourcePath: 'src',
            targetAccountId: cloudAccountId,
            targetPath: 'Backups',
            filter: { mode: 'exclude', extensions: 'tmp' },
            concurrency: 3,
          })
          .expect(201);
        taskId = task.body.id;
      });

      it('should store every unfiltered file byte for byte, with its manifest, when run first', async () => {
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        const n = Object.keys(source).length;
        const bytes = Object.values(source).reduce((s, b) => s + b.length, 0);
        expect(run).toMatchObject({
          status: 'completed',
          filesTotal: n,
          filesCopied: n,
          filesUnchanged: 0,
          filesFiltered: 2,
          filesFailed: 0,
          bytesTotal: bytes,
          bytesCopied: bytes,
          errorMessage: null,
        });
        const folders = await cloudTree();
        expect(hashes(versionFolder(folders, 1))).toEqual(hashes(source));
        expect(Object.keys(folders['.cbe-manifests'] ?? {})).toEqual(['v000001.jsonl']);
        const lines = folders['.cbe-manifests']!['v000001.jsonl']!.toString('utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { path?: string; sha256?: string; format?: string });
        expect(lines[0]).toMatchObject({ format: 'cbe-manifest/1', seq: 1 });
        expect(Object.fromEntries(lines.slice(1).map((l) => [l.path, l.sha256]))).toEqual(
          hashes(source),
        );
        // The files larger than a chunk went up in chunks, none larger than the configured size.
        const chunks = cloud.uploadChunkRequests();
        expect(chunks.length).toBeGreaterThanOrEqual(4);
        expect(chunks.every((r) => r.bytes <= chunk())).toBe(true);
      });

      it('should copy nothing when run again with nothing changed', async () => {
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({
          status: 'completed',
          filesCopied: 0,
          filesUnchanged: Object.keys(source).length,
          bytesCopied: 0,
        });
        const folders = await cloudTree();
        expect(Object.keys(folders).filter((f) => f.startsWith('v0'))).toHaveLength(1);
        expect(Object.keys(folders['.cbe-manifests']!).sort()).toEqual([
          'v000001.jsonl',
          'v000002.jsonl',
        ]);
      });

      it('should copy exactly the one file that changed', async () => {
        await touch('docs/naïve café.txt', patternBytes(777, 40), 5);
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({
          status: 'completed',
          filesCopied: 1,
          filesUnchanged: Object.keys(source).length - 1,
          bytesCopied: 777,
        });
        expect(hashes(versionFolder(await cloudTree(), 3))).toEqual({
          'docs/naïve café.txt': sha256(source['docs/naïve café.txt']!),
        });
      });

      it('should resume an upload whose connection was cut mid-chunk from the stored offset, not from 0', async () => {
        const big = patternBytes(3 * chunk() + 5_000, 41);
        await touch('big/video.mov', big, 10);
        const { cutOffset, resumeAt } = cloud.faults.cutUploadChunk();
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
        expect(versionFolder(await cloudTree(), 4)['big/video.mov']!.equals(big)).toBe(true);
        const chunks = cloud.uploadChunkRequests();
        const cut = chunks.find((r) => r.cut)!;
        expect(cut).toMatchObject({ offset: cutOffset });
        const sameSession = chunks.filter((r) => r.session === cut.session);
        const after = sameSession.slice(sameSession.indexOf(cut) + 1);
        // The next data request of the same session picks up where the cloud's copy ends...
        expect(after[0]).toMatchObject({ offset: resumeAt, cut: false });
        expect(after.filter((r) => r.offset < resumeAt)).toEqual([]);
        // ...and no new session starts the file again from byte 0.
        expect(chunks.filter((r) => r.offset === 0 && r.bytes === chunk())).toHaveLength(1);
        const retries = await retryEvents(t, run.id);
        if (cloud.resumeVisibleIn.uploadCut === 'events') {
          expect(retries.filter((e) => e.message.includes(cloud.retryLabels.upload))).toHaveLength(
            1,
          );
        } else {
          expect(retries).toEqual([]);
        }
      });

      it('should wait out a 429 with Retry-After on an upload chunk and name it in the run log', async () => {
        const big = patternBytes(2 * chunk() + 1_000, 42);
        await touch('big/video.mov', big, 15);
        cloud.faults.rateLimitUpload(1);
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
        expect(versionFolder(await cloudTree(), 5)['big/video.mov']!.equals(big)).toBe(true);
        const all = cloud.uploadChunkRequests();
        expect(all.filter((r) => r.status === 429)).toHaveLength(1);
        const bigSession = all.find((r) => r.bytes === chunk() && r.status !== 429)!.session;
        const chunks = all.filter((r) => r.session === bigSession);
        expect(chunks.filter((r) => r.status! < 400).map((r) => r.offset)).toEqual([
          0,
          chunk(),
          2 * chunk(),
        ]);
        const retries = await retryEvents(t, run.id);
        expect(retries).toHaveLength(1);
        expect(retries[0]!.message).toContain(cloud.retryLabels.upload);
        expect(retries[0]!.code).toBe('RATE_LIMITED');
        expect(announcedDelay(retries[0]!)).toBeGreaterThanOrEqual(1000);
      });
    });

    describe('cloud -> local', () => {
      let taskId: string;
      const folder = 'Camera Uploads';
      const seededAt = new Date('2024-05-01T10:00:00Z');
      const source: Tree = {
        'IMG_1001.jpg': patternBytes(25_000, 101),
        'IMG_1002.HEIC': patternBytes(40_000, 102),
        'Été ☀/IMG #3 100%.jpg': patternBytes(8_000, 103),
        '2024/05/clip (1).mov': patternBytes(300_000, 104),
        '2024/05/empty.jpg': Buffer.alloc(0),
        '日本/写真.jpg': patternBytes(3_000, 105),
        'notes.txt': patternBytes(500, 106),
      };
      const localTree = async () => byVersionFolder(await readLocal(join(localRoot, 'FromCloud')));

      const seed = (files: Tree, at = seededAt) => {
        Object.assign(source, files);
        return cloud.seed(folder, files, at);
      };

      beforeAll(async () => {
        await cloud.seed(folder, { ...source, 'design.psd': patternBytes(1_000, 107) }, seededAt);
        const task = await t.http
          .post('/api/tasks')
          .send({
            name: `${fixture.kind} to local`,
            sourceAccountId: cloudAccountId,
            sourcePath: folder,
            targetAccountId: localAccountId,
            targetPath: 'FromCloud',
            filter: { mode: 'exclude', extensions: 'psd' },
            concurrency: 3,
          })
          .expect(201);
        taskId = task.body.id;
      });

      it('should download every unfiltered file byte for byte', async () => {
        const run = await runTask(t, taskId);

        const bytes = Object.values(source).reduce((s, b) => s + b.length, 0);
        expect(run).toMatchObject({
          status: 'completed',
          filesTotal: Object.keys(source).length,
          filesCopied: Object.keys(source).length,
          filesFiltered: 1,
          filesFailed: 0,
          bytesCopied: bytes,
        });
        const folders = await localTree();
        expect(hashes(versionFolder(folders, 1))).toEqual(hashes(source));
        expect(Object.keys(folders['.cbe-manifests']!)).toEqual(['v000001.jsonl']);
      });

      it('should copy nothing when run again with nothing changed', async () => {
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        const n = Object.keys(source).length;
        expect(run).toMatchObject({ status: 'completed', filesCopied: 0, bytesCopied: 0 });
        // With a change feed only what changed is looked at; without one everything is listed.
        expect(run.filesTotal).toBe(changeFeed ? 0 : n);
        expect(run.filesUnchanged).toBe(changeFeed ? 0 : n);
        expect(cloud.downloadRequests()).toEqual([]);
        const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200))
          .body as Array<{ seq: number; status: string; fileCount: number }>;
        expect(versions[0]).toMatchObject({ seq: 2, status: 'complete', fileCount: n });
      });

      it('should decide "changed" by the content hash when the cloud reports one', async () => {
        // Same size and time, other bytes: only a hash can tell.
        await seed({ 'notes.txt': patternBytes(500, 200) });
        // Same bytes, a newer time: a hash says unchanged, a time would say changed.
        await cloud.seed(folder, { 'IMG_1001.jpg': source['IMG_1001.jpg']! }, new Date());
        const run = await runTask(t, taskId);

        const expected = fixture.contentHashes
          ? { 'notes.txt': sha256(source['notes.txt']!) }
          : {
              'notes.txt': sha256(source['notes.txt']!),
              'IMG_1001.jpg': sha256(source['IMG_1001.jpg']!),
            };
        expect(run).toMatchObject({
          status: 'completed',
          filesCopied: Object.keys(expected).length,
        });
        expect(hashes(versionFolder(await localTree(), 3))).toEqual(expected);
      });

      it('should resume a download cut mid-body at the byte where it broke', async () => {
        await seed({ '2024/05/clip (1).mov': patternBytes(300_000, 201) });
        cloud.faults.cutDownload(123_456);
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
        expect(hashes(versionFolder(await localTree(), 4))).toEqual({
          '2024/05/clip (1).mov': sha256(source['2024/05/clip (1).mov']!),
        });
        const downloads = cloud.downloadRequests();
        expect(downloads.map((d) => d.rangeStart)).toEqual([0, 123_456]);
        expect(downloads[0]!.cut).toBe(true);
        const retries = await retryEvents(t, run.id);
        if (cloud.resumeVisibleIn.downloadCut === 'events') {
          expect(
            retries.filter((e) => e.message.includes(cloud.retryLabels.download)),
          ).toHaveLength(1);
        } else {
          expect(retries).toEqual([]); // resumed inside the connector: the engine saw one stream
        }
      });

      it('should wait out a 503 with Retry-After on a download and name it in the run log', async () => {
        await seed({ 'IMG_1002.HEIC': patternBytes(40_000, 202) });
        cloud.faults.unavailableDownload(1);
        cloud.clearRequestLog();
        const run = await runTask(t, taskId);

        expect(run).toMatchObject({ status: 'completed', filesCopied: 1, filesFailed: 0 });
        expect(hashes(versionFolder(await localTree(), 5))).toEqual({
          'IMG_1002.HEIC': sha256(source['IMG_1002.HEIC']!),
        });
        expect(cloud.downloadRequests().map((d) => (d.status! < 300 ? 'ok' : d.status))).toEqual([
          503,
          'ok',
        ]);
        const retries = await retryEvents(t, run.id);
        expect(retries).toHaveLength(1);
        expect(retries[0]!.message).toContain(cloud.retryLabels.download);
        expect(announcedDelay(retries[0]!)).toBeGreaterThanOrEqual(1000);
      });
    });
  },
);

async function readLocal(root: string): Promise<Tree> {
  const out: Tree = {};
  for (const rel of Object.keys(await hashTree(root)))
    out[rel] = await readFile(join(root, ...rel.split('/')));
  return out;
}

it('should have an entry for every writable cloud connector the build registers', () => {
  // S3, WebDAV and SFTP are tested against real servers in s3-webdav-sftp.e2e-spec.ts.
  const testedAgainstRealServers = ['s3', 'webdav', 'sftp'];
  const writable = new ConnectorRegistry()
    .list()
    .filter(
      (d) =>
        d.capabilities.writable && d.kind !== 'local' && !testedAgainstRealServers.includes(d.kind),
    )
    .map((d) => d.kind);
  expect(writable.filter((k) => !WRITABLE_CLOUD_KINDS.includes(k))).toEqual([]);
  expect(clouds.map((c) => c.kind).sort()).toEqual([...writable].sort());
});
