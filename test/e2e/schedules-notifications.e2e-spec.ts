import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataSource, type TestDatabase } from '../support/databases.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startSmtpSink, startWebhookSink } from '../support/smtp-sink.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

describe('schedules and notifications through the API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let refusing: Awaited<ReturnType<typeof startSmtpSink>>;
  let authed: Awaited<ReturnType<typeof startSmtpSink>>;
  let hook: Awaited<ReturnType<typeof startWebhookSink>>;
  let t: TestApp;
  let sourceRoot: string;
  let targetRoot: string;
  let sourceId: string;
  let targetId: string;

  const files = { 'a.jpg': patternBytes(10_000, 1), 'b/c.jpg': patternBytes(2_000, 2) };

  beforeAll(async () => {
    smtp = await startSmtpSink();
    refusing = await startSmtpSink({ refuse: true });
    authed = await startSmtpSink({ user: 'mailer', password: 's3cret-pw' });
    hook = await startWebhookSink();
    t = await startTestApp({
      env: {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_TLS: 'none',
        SMTP_FROM: 'Backups <backup@test.local>',
        PUBLIC_URL: 'https://backup.example.org',
      },
    });
    sourceRoot = await mkdtemp(join(tmpdir(), 'cbe-src-'));
    targetRoot = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
    await writeTree(sourceRoot, files);
    sourceId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'Src', options: { root: sourceRoot } })
        .expect(201)
    ).body.id;
    targetId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'Dst', options: { root: targetRoot } })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await refusing?.close();
    await authed?.close();
    await hook?.close();
    await rm(sourceRoot, { recursive: true, force: true });
    await rm(targetRoot, { recursive: true, force: true });
  });

  const baseTask = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    sourceAccountId: sourceId,
    targetAccountId: targetId,
    targetPath: name,
    ...extra,
  });

  describe('schedules', () => {
    it('should store a schedule and list the next five runs with the zone offset', async () => {
      const created = await t.http
        .post('/api/tasks')
        .send(
          baseTask('monthly', {
            schedule: { kind: 'monthly', time: '02:30', dayOfMonth: 31, timezone: 'Europe/Berlin' },
            catchUp: true,
          }),
        )
        .expect(201);
      const got = (await t.http.get(`/api/tasks/${created.body.id}`).expect(200)).body;
      expect(got.schedule).toMatchObject({
        kind: 'monthly',
        time: '02:30',
        dayOfMonth: 31,
        timezone: 'Europe/Berlin',
      });
      expect(got.schedule.monthEndRule).toContain('last day of that month');
      expect(got.catchUp).toBe(true);
      expect(got.paused).toBe(false);
      expect(got.nextRuns).toHaveLength(5);
      for (const r of got.nextRuns as string[]) {
        expect(r).toMatch(/^\d{4}-\d\d-(28|29|30|31)T02:30:00\.000\+0[12]:00$/);
      }
      const paused = await t.http
        .patch(`/api/tasks/${created.body.id}`)
        .send({ paused: true })
        .expect(200);
      expect(paused.body).toMatchObject({ paused: true, enabled: false, nextRuns: [] });
    });

    it('should answer 400 naming the field when the zone or the cron line is invalid', async () => {
      const badZone = await t.http
        .post('/api/tasks')
        .send(
          baseTask('bad', {
            schedule: { kind: 'daily', time: '02:30', timezone: 'Europe/Nowhere' },
          }),
        )
        .expect(400);
      expect(badZone.body.problems).toEqual([
        "schedule.timezone: 'Europe/Nowhere' is not an IANA time zone (such as Europe/Berlin or UTC)",
      ]);
      const badCron = await t.http
        .post('/api/tasks')
        .send(baseTask('bad', { schedule: { kind: 'cron', cron: '0 25 * * *', timezone: 'UTC' } }))
        .expect(400);
      expect(badCron.body.problems[0]).toMatch(/^schedule\.cron: '0 25 \* \* \*' is not a valid/);
      const badKind = await t.http
        .post('/api/tasks')
        .send(baseTask('bad', { schedule: { kind: 'hourly', timezone: 'UTC' } }))
        .expect(400);
      expect(badKind.body.problems[0]).toMatch(/^schedule\.kind must be one of/);
    });

    it('should preview a draft schedule across the spring-forward night', async () => {
      const res = await t.http
        .get('/api/schedules/preview')
        .query({
          kind: 'weekly',
          time: '02:30',
          weekdays: 'sun',
          timezone: 'Europe/Berlin',
          count: 50,
        })
        .expect(200);
      const runs = res.body.nextRuns as string[];
      expect(runs).toHaveLength(50);
      expect(runs.every((r) => /T0[23]:30:00\.000\+0[12]:00$/.test(r))).toBe(true);
      // The last Sunday of March has no 02:30 in Berlin: that slot is 03:30 CEST.
      const march = runs.filter((r) => /-03-(2[5-9]|3[01])T/.test(r));
      expect(march.length).toBeGreaterThan(0);
      for (const r of march) expect(r).toMatch(/T03:30:00\.000\+02:00$/);
      expect(res.body.rules.dst).toContain('first occurrence');
      const bad = await t.http
        .get('/api/schedules/preview')
        .query({ kind: 'weekly', time: '02:30', weekdays: 'sun,xyz', timezone: 'UTC' })
        .expect(400);
      expect(bad.body.problems).toEqual([
        "schedule.weekdays: 'xyz' not one of mon, tue, wed, thu, fri, sat, sun",
      ]);
    });
  });

  describe('notifications', () => {
    it('should mail the recipients and post the webhook when a run completes', async () => {
      const task = await t.http
        .post('/api/tasks')
        .send(
          baseTask('Photos', {
            notifications: {
              emails: ['ops@example.com', 'me@example.com'],
              on: 'always',
              webhookUrl: `${hook.url}/hook?token=abc`,
            },
          }),
        )
        .expect(201);
      expect(task.body.notifications).toEqual({
        emails: ['ops@example.com', 'me@example.com'],
        on: 'always',
        webhookUrl: `${hook.url}/hook?token=abc`,
      });
      const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);
      expect(run.status).toBe('completed');

      const [mail] = await smtp.waitFor(1);
      expect(mail!.to).toEqual(['ops@example.com', 'me@example.com']);
      expect(mail!.from).toBe('backup@test.local');
      expect(mail!.subject).toBe('Backup "Photos" completed');
      expect(mail!.text).toContain('Result: completed');
      expect(mail!.text).toContain('Copied: 2 file(s), 11.7 KiB (12000 bytes)');
      expect(mail!.text).toContain('Unchanged: 0 file(s)');
      expect(mail!.text).toContain(`Run details: https://backup.example.org/#/runs/${run.id}`);
      expect(mail!.html).toContain('Backup <b>Photos</b> completed');
      expect(mail!.html).toContain(`href="https://backup.example.org/#/runs/${run.id}"`);
      expect(mail!.html).toContain('<td>2 file(s), 11.7 KiB (12000 bytes)</td>');

      for (let i = 0; hook.bodies.length === 0 && i < 200; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(hook.bodies).toHaveLength(1);
      expect(hook.bodies[0]!.path).toBe('/hook?token=abc');
      expect(hook.bodies[0]!.body).toMatchObject({
        event: 'backup.run.completed',
        taskName: 'Photos',
        runId: run.id,
        succeeded: true,
        filesCopied: 2,
        bytesCopied: 12_000,
        url: `https://backup.example.org/#/runs/${run.id}`,
      });
    });

    it('should mail a failure with its reason when the run fails', async () => {
      smtp.received.length = 0;
      const blocked = join(targetRoot, 'blocked');
      await writeFile(blocked, 'a file where the target folder should be');
      const task = await t.http
        .post('/api/tasks')
        .send(
          baseTask('blocked', {
            notifications: { emails: ['ops@example.com'], on: 'failure' },
          }),
        )
        .expect(201);
      const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);
      expect(run.status).toBe('failed');
      const [mail] = await smtp.waitFor(1);
      expect(mail!.subject).toBe('Backup "blocked" FAILED');
      expect(mail!.text).toContain('Result: failed: ');
      expect(mail!.html).toContain('FAILED</b>');
    });

    it('should keep the run completed and log a warning when the SMTP server refuses', async () => {
      await t.http
        .put('/api/settings/smtp')
        .send({ host: '127.0.0.1', port: refusing.port, tls: 'none', from: 'backup@test.local' })
        .expect(200);
      const task = await t.http
        .post('/api/tasks')
        .send(baseTask('refused', { notifications: { emails: ['ops@example.com'], on: 'always' } }))
        .expect(201);
      const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);
      expect(run.status).toBe('completed');
      let warnings: Array<{ level: string; code: string; message: string }> = [];
      for (let i = 0; warnings.length === 0 && i < 200; i++) {
        await new Promise((r) => setTimeout(r, 25));
        warnings = (await t.http.get(`/api/runs/${run.id}/events?level=warning`).expect(200)).body;
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 'warning', code: 'notification' });
      expect(warnings[0]!.message).toMatch(/^e-mail to ops@example\.com was not sent: .*550/);
      expect((await t.http.get(`/api/runs/${run.id}`).expect(200)).body.status).toBe('completed');
      expect(refusing.received).toHaveLength(0);
    });

    it('should store the SMTP password sealed, never return it, and use it for a test mail', async () => {
      const put = await t.http
        .put('/api/settings/smtp')
        .send({
          host: '127.0.0.1',
          port: authed.port,
          tls: 'none',
          user: 'mailer',
          password: 's3cret-pw',
          from: 'backup@test.local',
        })
        .expect(200);
      expect(put.body).toEqual({
        source: 'settings',
        host: '127.0.0.1',
        port: authed.port,
        tls: 'none',
        user: 'mailer',
        from: 'backup@test.local',
        hasPassword: true,
      });
      const got = await t.http.get('/api/settings/smtp').expect(200);
      expect(JSON.stringify(got.body)).not.toContain('s3cret-pw');
      const ds = await openDataSource({ config: t.config.database } as TestDatabase);
      const [row] = (await ds.query(`select value from settings where key = 'smtp'`)) as Array<{
        value: string;
      }>;
      await ds.destroy();
      expect(row.value).not.toContain('s3cret-pw');
      expect(JSON.parse(row.value).sealedPassword).toMatch(/^v1:/);

      // Updating without a password keeps the stored one.
      await t.http
        .put('/api/settings/smtp')
        .send({
          host: '127.0.0.1',
          port: authed.port,
          tls: 'none',
          user: 'mailer',
          from: 'backup@test.local',
        })
        .expect(200);
      await t.http
        .post('/api/settings/smtp/test')
        .send({ to: ['me@example.com'] })
        .expect(200);
      const [mail] = await authed.waitFor(1);
      expect(mail!.auth).toEqual({ user: 'mailer', password: 's3cret-pw' });
      expect(mail!.to).toEqual(['me@example.com']);
      expect(mail!.subject).toBe('Test message from the cloud backup engine');

      await t.http
        .put('/api/settings/smtp')
        .send({ host: '127.0.0.1', port: refusing.port, tls: 'none', from: 'backup@test.local' })
        .expect(200);
      const failed = await t.http
        .post('/api/settings/smtp/test')
        .send({ to: ['me@example.com'] })
        .expect(502);
      expect(failed.body.message).toContain('did not accept the test message');
      expect(await readFile(join(t.dataDir, 'secret.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    });
  });
});
