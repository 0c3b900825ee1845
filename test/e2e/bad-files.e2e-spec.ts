import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorDescriptor } from '../../src/connectors/connector-descriptor.js';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import { localConnectorDescriptor } from '../../src/connectors/local/index.js';
import { LocalConnector } from '../../src/connectors/local/local.connector.js';
import { FaultyConnector } from '../support/faulty-connector.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * A source that lies about one file's hash: 'liar.jpg' is listed with the MD5 of other bytes,
 * as a provider serving a damaged or stale copy would.
 */
const lyingDescriptor: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'lying',
  displayName: 'Local folder reporting a wrong hash for liar.jpg (tests)',
  create: (settings) =>
    new FaultyConnector(
      new LocalConnector({ root: String(settings.config.root), fsync: false }),
      () => undefined,
      undefined,
      (path) => (path.endsWith('liar.jpg') ? { md5: 'f'.repeat(32) } : undefined),
    ),
};

/**
 * Issue 18, items 4 and 5: a file named with a backslash or a control character ended the whole
 * run failed with nothing copied; the hashes the source reports were never compared with the
 * bytes read.
 */
describe('bad files among good ones', () => {
  let t: TestApp;
  let dir: string;
  let src: string;
  let dst: string;
  let taskId: string;
  const good: Record<string, Buffer> = Object.fromEntries(
    Array.from({ length: 5 }, (_, i) => [`ok/${i}.jpg`, patternBytes(4000 + i, i + 1)]),
  );

  beforeAll(async () => {
    t = await startTestApp({
      registry: new ConnectorRegistry([localConnectorDescriptor, lyingDescriptor]),
      env: { BACKUP_FILE_ATTEMPTS: '2' },
    });
    dir = await mkdtemp(join(tmpdir(), 'cbe-bad-'));
    src = join(dir, 'src');
    dst = join(dir, 'dst');
    await mkdir(dst);
    await writeTree(src, {
      ...good,
      'back\\slash.jpg': 'a name with a backslash',
      'ctl\u0001.jpg': 'a name with a control character',
      'liar.jpg': patternBytes(5000, 99),
      'bad\\folder/inside.jpg': 'in a folder whose name no path may hold',
    });
    const srcId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'lying', name: 'src', options: { root: src } })
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
        .send({ name: 'bad', sourceAccountId: srcId, targetAccountId: dstId, targetPath: 'B' })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should copy every good file, skip and list each bad one, and complete with a warning', async () => {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run: RunView = await waitForRun(t.http, started.body.id);

    expect(run).toMatchObject({ status: 'warning', filesCopied: 5, filesFailed: 4 });
    expect(run.errorMessage).toContain('4 file(s) skipped');
    const errors = (await t.http.get(`/api/runs/${run.id}/events?level=error`).expect(200))
      .body as Array<{ path: string; message: string }>;
    const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
    expect(byPath['back\\slash.jpg']).toContain('backslash');
    expect(byPath['ctl\u0001.jpg']).toContain('control character');
    expect(byPath['liar.jpg']).toContain("do not match the source's own md5 hash");
    expect(byPath['bad\\folder']).toContain('folder skipped');
    const retries = (await t.http.get(`/api/runs/${run.id}/events?level=retry`).expect(200))
      .body as Array<{ message: string }>;
    expect(retries.some((r) => r.message.includes('liar.jpg'))).toBe(true);

    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body;
    expect(versions[0]).toMatchObject({ status: 'complete', fileCount: 5, skippedCount: 4 });
    const [folder] = (await readdir(join(dst, 'B'))).filter((n) => n.startsWith('v000001'));
    // Nothing of the liar is stored as good: only the five good files are on the target.
    expect(await hashTree(join(dst, 'B', folder!))).toEqual(
      Object.fromEntries(Object.entries(good).map(([p, b]) => [p, sha256(b)])),
    );
  });
});
