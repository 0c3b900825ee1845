import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../emulators/google-drive/google-drive.emulator.js';
import { hashTree, patternBytes, sha256 } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Issue 18, point 4: "every hash the source reports is compared with what was read". Google
 * Drive reports three checksums per file (md5Checksum, sha1Checksum, sha256Checksum). The
 * emulator is made to lie in ONE of them for a file, as a provider whose metadata went out of step
 * with the content would: the engine compared only one reported kind (SHA-256, which it computes
 * anyway) and stored both liars as good.
 */
describe('a Google Drive source that reports one wrong checksum of three', () => {
  let t: TestApp;
  let drive: GoogleDriveEmulator;
  let dir: string;
  let dst: string;
  let taskId: string;
  const good: Record<string, Buffer> = Object.fromEntries(
    Array.from({ length: 3 }, (_, i) => [`good${i}.jpg`, patternBytes(300_000 + i, i + 1)]),
  );

  /** Replaces one checksum Drive reports for `name` with the digest of other bytes. */
  function lieAbout(name: string, kind: 'md5' | 'sha1'): void {
    const f = drive.findByPath(`Photos/${name}`)!;
    f.blob = { ...f.blob!, [kind]: createHash(kind).update('other bytes').digest('hex') };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { BACKUP_FILE_ATTEMPTS: '2' } });
    drive = await startGoogleDriveEmulator({ fixtures: false });
    dir = await mkdtemp(join(tmpdir(), 'cbe-srchash-'));
    dst = join(dir, 'dst');
    await mkdir(dst);
    const files = {
      ...good,
      'sha1-liar.jpg': patternBytes(400_000, 21),
      'md5-liar.jpg': patternBytes(400_001, 22),
    };
    for (const [name, bytes] of Object.entries(files))
      await drive.seed.file(`Photos/${name}`, bytes);
    lieAbout('sha1-liar.jpg', 'sha1');
    lieAbout('md5-liar.jpg', 'md5');

    const c = drive.credentials;
    const srcId = (
      await t.http
        .post('/api/accounts')
        .send({
          kind: 'google-drive',
          name: 'drive',
          options: {
            clientId: c.clientId,
            clientSecret: c.clientSecret,
            refreshToken: c.refreshToken,
            apiBaseUrl: c.apiBaseUrl,
            tokenUrl: c.tokenUrl,
            authorizeUrl: c.authorizeUrl,
            revokeUrl: c.revokeUrl,
          },
        })
        .expect(201)
    ).body.id;
    const dstId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'dst', options: { root: dst } })
        .expect(201)
    ).body.id;
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({
          name: 'drive photos',
          sourceAccountId: srcId,
          sourcePath: 'Photos',
          targetAccountId: dstId,
          targetPath: 'B',
        })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await drive?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should retry each liar, then skip it as a per-file error, and store only the good files', async () => {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run: RunView = await waitForRun(t.http, started.body.id, 30_000);

    expect(run).toMatchObject({ status: 'warning', filesCopied: 3, filesFailed: 2 });
    const errors = (await t.http.get(`/api/runs/${run.id}/events?level=error`).expect(200))
      .body as Array<{ path: string; message: string }>;
    const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
    expect(byPath['Photos/sha1-liar.jpg']).toContain("do not match the source's own sha1 hash");
    expect(byPath['Photos/md5-liar.jpg']).toContain("do not match the source's own md5 hash");
    const retries = (await t.http.get(`/api/runs/${run.id}/events?level=retry`).expect(200))
      .body as Array<{ message: string }>;
    expect(retries.filter((r) => /(sha1|md5)-liar\.jpg/.test(r.message))).toHaveLength(2);

    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body;
    expect(versions[0]).toMatchObject({ status: 'complete', fileCount: 3, skippedCount: 2 });
    const [folder] = (await readdir(join(dst, 'B'))).filter((n) => n.startsWith('v000001'));
    expect(await hashTree(join(dst, 'B', folder!))).toEqual(
      Object.fromEntries(Object.entries(good).map(([p, b]) => [p, sha256(b)])),
    );
  });
});
