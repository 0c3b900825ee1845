import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change, ChangeFeed, ChangePage, Connector } from '../../src/connectors/connector.js';
import type { ConnectorDescriptor } from '../../src/connectors/connector-descriptor.js';
import { CursorExpiredError } from '../../src/connectors/connector.errors.js';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import { localConnectorDescriptor } from '../../src/connectors/local/index.js';
import { LocalConnector } from '../../src/connectors/local/local.connector.js';
import { patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

/** A local folder with a scripted change log: cursor = position in the log. */
const log: Change[] = [];
const calls: string[] = [];
let refuseCursors = false;

class FeedConnector extends LocalConnector implements ChangeFeed {
  override readonly capabilities = {
    ...new LocalConnector({ root: '/', fsync: false }).capabilities,
    changeFeed: true,
  };

  override list(dir: string, opts?: Parameters<Connector['list']>[1]) {
    calls.push(`list:${dir}`);
    return super.list(dir, opts);
  }

  async currentCursor(): Promise<string> {
    calls.push('currentCursor');
    return String(log.length);
  }

  async changes(_dir: string, cursor: string): Promise<ChangePage> {
    calls.push(`changes:${cursor}`);
    if (refuseCursors) throw new CursorExpiredError('cursor reset');
    const from = Number(cursor);
    const page = log.slice(from, from + 2); // small pages: paging is exercised
    const next = from + page.length;
    return { changes: page, cursor: String(next), hasMore: next < log.length };
  }
}

const feedDescriptor: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'feed',
  create: (s) => new FeedConnector({ root: String(s.config.root), fsync: false }),
};

describe('backups planned from a change feed', () => {
  let t: TestApp;
  let src: string;
  let dst: string;
  let taskId: string;
  const root = new LocalConnector({ root: '/', fsync: false });

  async function entry(rel: string) {
    return { ...(await root.stat(join(src, 'Photos', rel).slice(1))), path: `Photos/${rel}` };
  }

  async function run() {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  async function filesOfLatest(): Promise<Record<string, string>> {
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      id: string;
    }>;
    const page = (await t.http.get(`/api/versions/${versions[0]!.id}/files`).expect(200)).body as {
      files: Array<{ path: string; sha256: string }>;
    };
    return Object.fromEntries(page.files.map((f) => [f.path, f.sha256]));
  }

  beforeAll(async () => {
    t = await startTestApp({
      registry: new ConnectorRegistry([localConnectorDescriptor, feedDescriptor]),
    });
    src = await mkdtemp(join(tmpdir(), 'cbe-feed-src-'));
    dst = await mkdtemp(join(tmpdir(), 'cbe-feed-dst-'));
    await writeTree(join(src, 'Photos'), {
      'a.jpg': patternBytes(1000, 1),
      'b.jpg': patternBytes(2000, 2),
      'album/c.jpg': patternBytes(3000, 3),
    });
    const s = await t.http
      .post('/api/accounts')
      .send({ kind: 'feed', name: 'feed', options: { root: src } })
      .expect(201);
    const d = await t.http
      .post('/api/accounts')
      .send({ kind: 'local', name: 'dst', options: { root: dst } })
      .expect(201);
    taskId = (
      await t.http
        .post('/api/tasks')
        .send({
          name: 'feed',
          sourceAccountId: s.body.id,
          sourcePath: 'Photos',
          targetAccountId: d.body.id,
        })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await rm(src, { recursive: true, force: true });
    await rm(dst, { recursive: true, force: true });
  });

  it('should list everything the first time and take a cursor before listing', async () => {
    const r = await run();
    expect(r).toMatchObject({ status: 'completed', filesCopied: 3 });
    expect(calls[0]).toBe('currentCursor');
    expect(calls.filter((c) => c.startsWith('list:'))).toHaveLength(2);
  });

  it('should read only the changes next time: new, changed and deleted files, and a new folder', async () => {
    calls.length = 0;
    await writeFile(join(src, 'Photos', 'a.jpg'), patternBytes(1001, 11));
    await rm(join(src, 'Photos', 'b.jpg'));
    await writeTree(join(src, 'Photos'), {
      'new/d.jpg': patternBytes(10, 4),
      'new/deeper/e.jpg': patternBytes(20, 5),
    });
    log.push(
      { type: 'upsert', entry: await entry('a.jpg') },
      { type: 'delete', path: 'Photos/b.jpg' },
      { type: 'upsert', entry: await entry('new') },
      { type: 'upsert', entry: { ...(await entry('a.jpg')), path: 'Elsewhere/x.jpg' } }, // outside the task's folder
    );

    const r = await run();

    expect(r).toMatchObject({ status: 'completed', filesCopied: 3, filesFailed: 0 });
    expect(calls).toEqual(['changes:0', 'changes:2', 'list:Photos/new', 'list:Photos/new/deeper']);
    expect(await filesOfLatest()).toEqual({
      'a.jpg': sha256(patternBytes(1001, 11)),
      'album/c.jpg': sha256(patternBytes(3000, 3)),
      'new/d.jpg': sha256(patternBytes(10, 4)),
      'new/deeper/e.jpg': sha256(patternBytes(20, 5)),
    });
  });

  it('should make no listing at all when nothing changed', async () => {
    calls.length = 0;
    const r = await run();
    expect(r).toMatchObject({ status: 'completed', filesCopied: 0, filesTotal: 0 });
    expect(calls).toEqual([`changes:${log.length}`]);
    expect(Object.keys(await filesOfLatest())).toHaveLength(4);
  });

  it('should close a deleted folder with everything in it', async () => {
    await rm(join(src, 'Photos', 'new'), { recursive: true });
    log.push({ type: 'delete', path: 'Photos/new' });
    const r = await run();
    expect(r.status).toBe('completed');
    expect(Object.keys(await filesOfLatest()).sort()).toEqual(['a.jpg', 'album/c.jpg']);
  });

  it('should fall back to a full listing when the source refuses the cursor, and say so in the run log', async () => {
    refuseCursors = true;
    calls.length = 0;
    await writeTree(join(src, 'Photos'), { 'f.jpg': patternBytes(5, 6) });
    const r = await run();
    refuseCursors = false;
    expect(r).toMatchObject({ status: 'completed', filesCopied: 1, filesUnchanged: 2 });
    expect(calls.slice(0, 2)).toEqual([`changes:${log.length}`, 'currentCursor']);
    const warnings = (await t.http.get(`/api/runs/${r.id}/events?level=warning`).expect(200)).body;
    expect(warnings[0].message).toContain('change cursor was refused');
  });

  it('should list everything again after the filter changes', async () => {
    await t.http
      .patch(`/api/tasks/${taskId}`)
      .send({ filter: { mode: 'exclude', extensions: ['png'] } })
      .expect(200);
    calls.length = 0;
    const r = await run();
    expect(r).toMatchObject({ status: 'completed', filesCopied: 0, filesUnchanged: 3 });
    expect(calls[0]).toBe('currentCursor');
  });
});
