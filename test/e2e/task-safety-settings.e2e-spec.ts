import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Issue 18: the deletion guard's thresholds and the verify read-back were code parameters; they
 * are a task's settings now (API, task form), used by the guard and by verify runs, and verify
 * runs can be scheduled. Through the API, with real files.
 */
describe('per-task deletion guard and verify settings', () => {
  let t: TestApp;
  let dir: string;
  let dst: string;
  let dstId: string;

  const files = (n: number, seed: number): Record<string, Buffer> =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`f/${i}.jpg`, patternBytes(1500 + i, seed + i)]),
    );

  async function account(name: string, root: string): Promise<string> {
    return (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name, options: { root } })
        .expect(201)
    ).body.id;
  }

  async function task(name: string, src: string, extra: object = {}): Promise<string> {
    return (
      await t.http
        .post('/api/tasks')
        .send({
          name,
          sourceAccountId: await account(name, src),
          targetAccountId: dstId,
          targetPath: name,
          ...extra,
        })
        .expect(201)
    ).body.id;
  }

  async function run(path: string, body: object = {}): Promise<RunView> {
    const started = await t.http.post(path).send(body).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  async function versionStatuses(taskId: string): Promise<string[]> {
    const list = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      seq: number;
      status: string;
    }>;
    return list.sort((a, b) => a.seq - b.seq).map((v) => v.status);
  }

  beforeAll(async () => {
    t = await startTestApp();
    dir = await mkdtemp(join(tmpdir(), 'cbe-task-safety-'));
    dst = join(dir, 'dst');
    await mkdir(dst);
    dstId = await account('dst', dst);
  });

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should show the guard on with its defaults, and verify settings, on a new task', async () => {
    const src = join(dir, 'defaults');
    await writeTree(src, files(1, 1));
    const id = await task('defaults', src);

    const view = (await t.http.get(`/api/tasks/${id}`).expect(200)).body;

    expect(view.deletionGuard).toEqual({
      enabled: true,
      percent: 50,
      minFiles: 20,
      countChanged: true,
      holdWhenEmptied: true,
    });
    expect(view.verify).toEqual({
      readPercent: 0,
      readBackAfterWrite: false,
      schedule: { kind: 'none' },
      nextRuns: [],
    });
  });

  it.each([
    [{ deletionGuard: { percent: 150 } }, 'deletionGuard.percent'],
    [{ deletionGuard: { percent: -1 } }, 'deletionGuard.percent'],
    [{ deletionGuard: { minFiles: -3 } }, 'deletionGuard.minFiles'],
    [{ deletionGuard: { enabled: 'no' } }, 'deletionGuard.enabled'],
    [{ verify: { readPercent: 101 } }, 'verify.readPercent'],
    [{ verify: { readBackAfterWrite: 'yes' } }, 'verify.readBackAfterWrite'],
    [
      { verify: { schedule: { kind: 'weekly', time: '04:00', weekdays: ['sun'] } } },
      'verify.schedule.timezone',
    ],
  ])('should answer 400 naming the field for %j', async (patch, field) => {
    const src = join(dir, 'bad-input');
    await writeTree(src, files(1, 1));
    const id = await task(`bad-${field}-${Math.random()}`, src);

    const res = await t.http.patch(`/api/tasks/${id}`).send(patch).expect(400);

    expect(JSON.stringify(res.body.message)).toContain(field);
  });

  it('should hold a version by the task own stricter thresholds, where the defaults would not', async () => {
    const src = join(dir, 'strict');
    await writeTree(src, files(10, 1));
    const id = await task('strict', src, { deletionGuard: { percent: 20, minFiles: 2 } });
    expect((await run(`/api/tasks/${id}/run`)).status).toBe('completed');
    for (const i of [0, 1, 2]) await rm(join(src, 'f', `${i}.jpg`));

    const second = await run(`/api/tasks/${id}/run`);

    expect(second.status).toBe('warning');
    expect(second.errorMessage).toContain('more than 20 % and more than 2 files');
    expect(await versionStatuses(id)).toEqual(['complete', 'held']);
  });

  it('should commit an emptied source complete only when the guard was turned off explicitly', async () => {
    const src = join(dir, 'off');
    await writeTree(src, files(25, 1));
    const id = await task('off', src);
    expect((await run(`/api/tasks/${id}/run`)).status).toBe('completed');
    const off = await t.http
      .patch(`/api/tasks/${id}`)
      .send({ deletionGuard: { enabled: false } })
      .expect(200);
    expect(off.body.deletionGuard).toMatchObject({ enabled: false, percent: 50 });
    await rm(join(src, 'f'), { recursive: true });

    expect((await run(`/api/tasks/${id}/run`)).status).toBe('completed');
    expect(await versionStatuses(id)).toEqual(['complete', 'complete']);

    // null puts the defaults back: on again, never off.
    const reset = await t.http.patch(`/api/tasks/${id}`).send({ deletionGuard: null }).expect(200);
    expect(reset.body.deletionGuard.enabled).toBe(true);
  });

  it('should read back the task verify percent when a verify run does not say its own', async () => {
    const src = join(dir, 'verify');
    const content = files(4, 7);
    await writeTree(src, content);
    const id = await task('verify', src);
    expect((await run(`/api/tasks/${id}/run`)).status).toBe('completed');
    // A flipped byte keeps the size: only a read-back finds it.
    const [folder] = (await readdir(join(dst, 'verify'))).filter((n) => n.startsWith('v000001'));
    const fh = await open(join(dst, 'verify', folder!, 'f', '0.jpg'), 'r+');
    await fh.write(Buffer.from([content['f/0.jpg']![10]! ^ 0xff]), 0, 1, 10);
    await fh.close();
    expect((await run(`/api/tasks/${id}/verify`)).status).toBe('completed'); // 0 %: listing only

    await t.http
      .patch(`/api/tasks/${id}`)
      .send({ verify: { readPercent: 100 } })
      .expect(200);
    const verify = await run(`/api/tasks/${id}/verify`);

    expect(verify).toMatchObject({ status: 'warning', filesFailed: 1 });
  });

  it('should take a weekly verify schedule and report its next runs', async () => {
    const src = join(dir, 'sched');
    await writeTree(src, files(1, 1));
    const id = await task('sched', src);

    const res = await t.http
      .patch(`/api/tasks/${id}`)
      .send({
        verify: {
          readPercent: 10,
          schedule: { kind: 'weekly', time: '04:00', weekdays: ['sun'], timezone: 'Europe/Berlin' },
        },
      })
      .expect(200);

    expect(res.body.verify).toMatchObject({
      readPercent: 10,
      schedule: { kind: 'weekly', time: '04:00', weekdays: ['sun'], timezone: 'Europe/Berlin' },
    });
    expect(res.body.verify.nextRuns).toHaveLength(5);
    for (const at of res.body.verify.nextRuns as string[]) {
      expect(at).toMatch(/T04:00:00\.000\+0[12]:00$/);
      expect(new Date(at).getUTCDay()).toBe(0);
    }
    expect(res.body.schedule).toEqual({ kind: 'none' }); // the backup schedule is its own

    const cleared = await t.http
      .patch(`/api/tasks/${id}`)
      .send({ verify: { schedule: { kind: 'none' } } })
      .expect(200);
    expect(cleared.body.verify).toMatchObject({ schedule: { kind: 'none' }, nextRuns: [] });
  });
});
