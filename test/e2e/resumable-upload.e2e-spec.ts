import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropboxFixture,
  googleDriveFixture,
  oneDriveFixture,
  type CloudFixture,
  type WritableCloud,
} from '../support/cloud-fixtures.js';
import { api, buildEngine, startEngine, type EngineProcess } from '../support/engine-process.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startS3Server, type S3Request, type S3Server } from '../servers/s3rver.server.js';

interface Run {
  id: string;
  status: string;
  filesCopied: number;
  errorMessage: string | null;
}
interface Version {
  id: string;
  seq: number;
  status: string;
  fileCount: number;
}

const MiB = 1024 * 1024;
/** Big enough that the upload is still going when half of it is confirmed. */
const SIZE = 64 * MiB;
const BIG = patternBytes(SIZE, 18);

/** Bytes per upload request for each cloud (legal sizes: Drive 256 KiB units, Graph 320 KiB). */
const CHUNK: Record<string, { option: string; bytes: number }> = {
  'google-drive': { option: 'uploadChunkSize', bytes: 1024 * 1024 },
  onedrive: { option: 'uploadFragmentSize', bytes: 4 * 320 * 1024 },
  dropbox: { option: 'uploadChunkSize', bytes: 1024 * 1024 },
};

async function waitForEnd(base: string, runId: string): Promise<Run> {
  for (;;) {
    const r = await api<Run>(base, 'GET', `/api/runs/${runId}`);
    if (r.status !== 'queued' && r.status !== 'running') return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Issue 18, item 6: a large file killed mid-upload (SIGKILL) continues after the restart from
 * the offset the cloud confirmed, instead of being sent again from byte 0. The engine runs as a
 * process; the cloud emulators run in this test's process, so their request logs outlive it.
 */
describe.each<[string, CloudFixture]>([
  ['Google Drive', googleDriveFixture],
  ['OneDrive', oneDriveFixture],
  ['Dropbox', dropboxFixture],
])('a %s upload of a large file killed half-way', (_name, fixture) => {
  let dir: string;
  let cloud: WritableCloud;
  let engine: EngineProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-resume-'));
    [cloud] = await Promise.all([
      fixture.start(),
      buildEngine(),
      writeTree(join(dir, 'src'), { 'big.bin': BIG }),
      mkdir(join(dir, 'restored'), { recursive: true }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should continue the upload from the confirmed offset after a restart, and the restored file should match', async () => {
    const env = { DATA_DIR: join(dir, 'data'), BACKUP_CONCURRENCY: '1' };
    engine = await startEngine(env);
    const chunk = CHUNK[fixture.kind]!;
    const src = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'src',
      options: { root: join(dir, 'src') },
    });
    const dst = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: fixture.kind,
      name: 'cloud',
      options: { ...cloud.accountOptions, [chunk.option]: chunk.bytes },
    });
    const task = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/tasks', {
      name: 'big',
      sourceAccountId: src.id,
      targetAccountId: dst.id,
      targetPath: 'Backups',
    });
    cloud.clearRequestLog();
    const run = await api<Run>(engine.baseUrl, 'POST', `/api/tasks/${task.id}/run`);

    // Kill it hard once about half the file is confirmed by the cloud.
    const confirmed = () =>
      cloud
        .uploadChunkRequests()
        .filter((c) => c.status !== undefined && c.status < 400)
        .reduce((end, c) => Math.max(end, c.offset + c.bytes), 0);
    for (;;) {
      if (confirmed() >= SIZE / 2) break;
      const r = await api<Run>(engine.baseUrl, 'GET', `/api/runs/${run.id}`);
      if (r.status !== 'queued' && r.status !== 'running')
        throw new Error(`run ended before the kill: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 5));
    }
    await engine.kill('SIGKILL');
    const before = cloud.uploadChunkRequests();
    const confirmedBefore = confirmed();
    expect(confirmedBefore).toBeLessThan(SIZE * 0.9);
    cloud.clearRequestLog();

    engine = await startEngine(env);
    const done = await waitForEnd(engine.baseUrl, run.id);
    expect(done).toMatchObject({ status: 'completed', filesCopied: 1 });

    // What went up after the restart: only the bytes the cloud did not confirm, in the session
    // opened before the kill.
    // (The version's manifest, a small file, goes up in a session of its own.)
    const bigSession = before[before.length - 1]!.session;
    const uploads = cloud.uploadChunkRequests().filter((c) => c.bytes > 0);
    const after = uploads.filter((c) => c.session === bigSession);
    const sentAfter = after.reduce((n, c) => n + c.bytes, 0);
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after.map((c) => c.offset))).toBeGreaterThanOrEqual(confirmedBefore);
    expect(sentAfter).toBeLessThanOrEqual(SIZE - confirmedBefore);
    process.stdout.write(
      `${fixture.kind}: killed with ${confirmedBefore} of ${SIZE} bytes confirmed; after the restart ` +
        `${sentAfter} bytes in ${after.length} requests, from offset ${Math.min(...after.map((c) => c.offset))}\n`,
    );
    const elsewhere = uploads.filter((c) => c.session !== bigSession);
    expect(elsewhere.reduce((n, c) => n + c.bytes, 0)).toBeLessThan(chunk.bytes);
    const events = await api<Array<{ message: string }>>(
      engine.baseUrl,
      'GET',
      `/api/runs/${run.id}/events?level=info`,
    );
    expect(events.map((e) => e.message).join('\n')).toMatch(
      /big\.bin: continuing the upload an interrupted attempt left, at byte \d+ of 67108864/,
    );

    // The version holds the file, and a restore gives back the same bytes.
    const versions = await api<Version[]>(engine.baseUrl, 'GET', `/api/tasks/${task.id}/versions`);
    const complete = versions.find((v) => v.status === 'complete')!;
    expect(complete.fileCount).toBe(1);
    const local = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'restored',
      options: { root: join(dir, 'restored') },
    });
    const restore = await api<Run>(engine.baseUrl, 'POST', `/api/versions/${complete.id}/restore`, {
      destination: { accountId: local.id, path: 'out' },
    });
    expect(await waitForEnd(engine.baseUrl, restore.id)).toMatchObject({ status: 'completed' });
    expect(await hashTree(join(dir, 'restored', 'out'))).toMatchObject({ 'big.bin': sha256(BIG) });
  }, 180_000);
});

/**
 * The same for an S3 target (s3rver in this test's process, its requests logged): after the
 * restart the multipart upload opened before the kill is continued (ListParts), and the parts S3
 * acknowledged before the kill are not sent again.
 */
describe('an S3 multipart upload of a large file killed half-way', () => {
  let dir: string;
  let s3: S3Server;
  let engine: EngineProcess | undefined;
  const requests: S3Request[] = [];
  const PART = 5 * MiB; // S3's smallest part: 13 parts
  const q = (r: S3Request, name: string) => {
    const v = r.query[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const partsOf = (rs: S3Request[], uploadId?: string) =>
    rs.filter(
      (r) =>
        r.method === 'PUT' &&
        q(r, 'partNumber') !== undefined &&
        (uploadId === undefined || q(r, 'uploadId') === uploadId),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-resume-s3-'));
    [s3] = await Promise.all([
      startS3Server({ onRequest: (r) => void requests.push(r) }),
      buildEngine(),
      writeTree(join(dir, 'src'), { 'big.bin': BIG }),
      mkdir(join(dir, 'restored'), { recursive: true }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should continue the multipart upload after a restart, sending only the parts S3 does not hold', async () => {
    const env = { DATA_DIR: join(dir, 'data'), BACKUP_CONCURRENCY: '1' };
    engine = await startEngine(env);
    const src = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'src',
      options: { root: join(dir, 'src') },
    });
    const dst = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 's3',
      name: 'bucket',
      options: { ...s3.accountOptions, partSize: PART },
    });
    const task = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/tasks', {
      name: 'big',
      sourceAccountId: src.id,
      targetAccountId: dst.id,
      targetPath: 'Backups',
    });
    requests.length = 0;
    const run = await api<Run>(engine.baseUrl, 'POST', `/api/tasks/${task.id}/run`);

    // Kill it hard once S3 acknowledged half of the parts.
    const total = Math.ceil(SIZE / PART);
    for (;;) {
      if (partsOf(requests).filter((r) => r.status === 200).length >= total / 2) break;
      const r = await api<Run>(engine.baseUrl, 'GET', `/api/runs/${run.id}`);
      if (r.status !== 'queued' && r.status !== 'running')
        throw new Error(`run ended before the kill: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 5));
    }
    await engine.kill('SIGKILL');
    const before = partsOf(requests);
    const uploadId = q(before[0]!, 'uploadId')!;
    const acked = new Set(
      before.filter((r) => r.status === 200).map((r) => Number(q(r, 'partNumber'))),
    );
    let prefix = 0;
    while (acked.has(prefix + 1)) prefix++;
    expect(prefix).toBeLessThan(total - 1);
    requests.length = 0;

    engine = await startEngine(env);
    const done = await waitForEnd(engine.baseUrl, run.id);
    expect(done).toMatchObject({ status: 'completed', filesCopied: 1 });

    // After the restart: the same upload (no new one for big.bin), none of the parts 1..prefix.
    const after = partsOf(requests, uploadId).map((r) => Number(q(r, 'partNumber')));
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after)).toBeGreaterThan(prefix);
    expect(after.length).toBeLessThanOrEqual(total - prefix);
    expect(partsOf(requests).length).toBe(after.length);
    process.stdout.write(
      `s3: killed with parts 1-${prefix} of ${total} acknowledged (${before.length} UploadPart requests); ` +
        `after the restart ${after.length} UploadPart requests, parts ${after.join(',')}\n`,
    );
    const events = await api<Array<{ message: string }>>(
      engine.baseUrl,
      'GET',
      `/api/runs/${run.id}/events?level=info`,
    );
    expect(events.map((e) => e.message).join('\n')).toMatch(
      /big\.bin: continuing the upload an interrupted attempt left, at byte \d+ of 67108864/,
    );

    const versions = await api<Version[]>(engine.baseUrl, 'GET', `/api/tasks/${task.id}/versions`);
    const complete = versions.find((v) => v.status === 'complete')!;
    expect(complete.fileCount).toBe(1);
    const local = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'restored',
      options: { root: join(dir, 'restored') },
    });
    const restore = await api<Run>(engine.baseUrl, 'POST', `/api/versions/${complete.id}/restore`, {
      destination: { accountId: local.id, path: 'out' },
    });
    expect(await waitForEnd(engine.baseUrl, restore.id)).toMatchObject({ status: 'completed' });
    expect(await hashTree(join(dir, 'restored', 'out'))).toMatchObject({ 'big.bin': sha256(BIG) });
  }, 180_000);
});
