import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternBytes, writeTree } from '../support/files.js';
import { freeLoopbackPort } from '../servers/free-port.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

const TOKEN = 'metrics-token-0123456789';

/** One sample of the Prometheus text, e.g. value(text, 'cbe_runs_total{kind="backup",outcome="completed"}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus metrics at /api/metrics', () => {
  let t: TestApp;
  let dir: string;
  let listenPort: number;
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 12; i++) files[`d/f${i}.bin`] = patternBytes(10_000 + i * 777, i + 1);
  const totalBytes = Object.values(files).reduce((n, b) => n + b.length, 0);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-metrics-'));
    await writeTree(join(dir, 'src'), files);
    listenPort = await freeLoopbackPort();
    t = await startTestApp({
      env: { METRICS_TOKEN: TOKEN, METRICS_LISTEN: `127.0.0.1:${listenPort}` },
    });
  });

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  // An admin's session here; an admin's API token works the same way.
  const scrape = async () => (await t.http.get('/api/metrics').expect(200)).text;

  /** Run events are counted asynchronously: wait until the series shows `want`. */
  async function until(series: string, want: number): Promise<string> {
    for (let i = 0; ; i++) {
      const text = await scrape();
      if (value(text, series) === want || i > 100) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('should refuse /api/metrics without an admin, and /metrics on METRICS_LISTEN without its token', async () => {
    await t.anon.get('/api/metrics').expect(401);
    await t.anon.get('/api/metrics').set('Authorization', 'Bearer wrong').expect(401);
    await t.http
      .post('/api/users')
      .send({ username: 'plain', password: 'plain-password-1', role: 'user' })
      .expect(201);
    const user = await t.signIn('plain', 'plain-password-1');
    await user.get('/api/metrics').expect(403);
    const url = `http://127.0.0.1:${listenPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE cbe_runs_total counter');
  });

  it('should count runs, files, bytes and the ledger after a backup, a repeat and a failure', async () => {
    const account = async (name: string, root: string) =>
      (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name, options: { root } })
          .expect(201)
      ).body.id as string;
    const src = await account('src', join(dir, 'src'));
    await mkdir(join(dir, 'dst')); // an account on a folder that does not exist is refused
    const dst = await account('dst', join(dir, 'dst'));
    const task = (
      await t.http
        .post('/api/tasks')
        .send({ name: 'm', sourceAccountId: src, targetAccountId: dst })
        .expect(201)
    ).body.id as string;
    for (let i = 0; i < 2; i++) {
      const run = await t.http.post(`/api/tasks/${task}/run`).expect(202);
      expect((await waitForRun(t.http, run.body.id)).status).toBe('completed');
    }
    // A source drive unplugged after its account was made: the run ends offline.
    await mkdir(join(dir, 'nowhere'));
    const missing = await account('missing', join(dir, 'nowhere'));
    await rm(join(dir, 'nowhere'), { recursive: true });
    const failing = (
      await t.http
        .post('/api/tasks')
        .send({ name: 'f', sourceAccountId: missing, targetAccountId: dst, targetPath: 'x' })
        .expect(201)
    ).body.id as string;
    const bad = await t.http.post(`/api/tasks/${failing}/run`).expect(202);
    expect((await waitForRun(t.http, bad.body.id)).status).toBe('offline');

    const text = await until('cbe_runs_total{kind="backup",outcome="offline"}', 1);
    expect(value(text, 'cbe_runs_total{kind="backup",outcome="completed"}')).toBe(2);
    expect(value(text, 'cbe_runs_total{kind="backup",outcome="offline"}')).toBe(1);
    expect(value(text, 'cbe_files_total{kind="backup",result="copied"}')).toBe(12);
    expect(value(text, 'cbe_files_total{kind="backup",result="unchanged"}')).toBe(12);
    expect(value(text, 'cbe_bytes_copied_total{kind="backup"}')).toBe(totalBytes);
    expect(value(text, 'cbe_run_duration_seconds_count{kind="backup",outcome="completed"}')).toBe(
      2,
    );
    expect(value(text, 'cbe_ledger_records')).toBe(12);
    expect(value(text, 'cbe_ledger_versions')).toBe(2);
    expect(value(text, 'cbe_queue_depth')).toBe(0);
    expect(value(text, 'cbe_process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(text).toContain('# TYPE cbe_runs_total counter');
  });
});
