import { Writable } from 'node:stream';
import { EngineLogger } from '../../src/logging/engine-logger.js';
import { dropboxFixture, type WritableCloud } from '../support/cloud-fixtures.js';
import { patternBytes } from '../support/files.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { startTestApp, TEST_ADMIN, waitForRun, type TestApp } from '../support/test-app.js';
import { startS3Server, type S3Server } from '../servers/s3rver.server.js';

/**
 * A full backup with every kind of secret the engine handles, logged at the most verbose level
 * through the product's logger: then no line may hold any of them.
 */
describe('logs of a full backup hold no secret', () => {
  const secrets = {
    SMTP_PASSWORD: 'smtp-Pa55word-for-the-log-test',
    SECRET_KEY: 'a1'.repeat(32),
    DROPBOX_APP_SECRET: 'dropbox-app-secret-log-test',
    METRICS_TOKEN: 'metrics-token-for-the-log-test',
  };
  let log = '';
  let t: TestApp;
  let s3: S3Server;
  let dropbox: WritableCloud;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

  beforeAll(async () => {
    [s3, dropbox, smtp] = await Promise.all([
      startS3Server(),
      dropboxFixture.start(),
      startSmtpSink({ user: 'mailer', password: secrets.SMTP_PASSWORD }),
    ]);
    await dropbox.seed(
      'Photos',
      { 'a.jpg': patternBytes(200_000, 1), 'b/c.heic': patternBytes(90_000, 2) },
      new Date('2025-01-01T00:00:00Z'),
    );
    const env = {
      ...secrets,
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_TLS: 'none',
      SMTP_USER: 'mailer',
      SMTP_FROM: 'Backups <backup@test.local>',
      DROPBOX_APP_KEY: 'dropbox-app-key',
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    });
    const { loadConfig } = await import('../../src/config/app-config.js');
    const logger = EngineLogger.fromConfig(loadConfig(env), sink);
    t = await startTestApp({ env, logger });
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([s3?.stop(), dropbox?.stop(), smtp?.close()]);
  });

  it('should back up Dropbox to S3, mail the result, and log none of the secrets', async () => {
    const source = await t.http
      .post('/api/accounts')
      .send({ kind: 'dropbox', name: 'Dropbox', options: dropbox.accountOptions })
      .expect(201);
    const target = await t.http
      .post('/api/accounts')
      .send({ kind: 's3', name: 'S3', options: s3.accountOptions })
      .expect(201);
    const task = await t.http
      .post('/api/tasks')
      .send({
        name: 'secret-free',
        sourceAccountId: source.body.id,
        sourcePath: 'Photos',
        targetAccountId: target.body.id,
        targetPath: 'b',
        notifications: { emails: ['ops@example.com'], on: 'always' },
      })
      .expect(201);
    const run = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
    expect((await waitForRun(t.http, run.body.id)).status).toBe('completed');
    await smtp.waitFor(1);
    // Secrets in places a careless line would copy: a query string, a wrong bearer token, a
    // failed sign-in with a password.
    await t.anon.get('/api/tasks?access_token=query-token-for-the-log-test').expect(401);
    await t.anon
      .get('/api/tasks')
      .set('Authorization', 'Bearer cbe_bearer-token-for-the-log-test')
      .expect(401);
    await t.anon
      .post('/api/auth/login')
      .send({ username: 'admin', password: 'wrong-password-for-the-log-test' })
      .expect(401);

    const lines = log.trim().split('\n');
    // The log is there and says what happened (else "no secret" would prove nothing).
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toMatch(/"reqId":"[0-9a-f-]{36}"/);
    expect(log).toContain('POST /api/tasks');
    expect(log).toContain('/api/tasks?access_token=[redacted]');
    const opts = dropbox.accountOptions as Record<string, string>;
    const s3opts = s3.accountOptions as Record<string, string>;
    const forbidden = [
      ...Object.values(secrets),
      TEST_ADMIN.password,
      opts.clientSecret!,
      opts.refreshToken!,
      s3opts.secretAccessKey!,
      'query-token-for-the-log-test',
      'bearer-token-for-the-log-test',
      'wrong-password-for-the-log-test',
    ];
    for (const secret of forbidden) {
      const hits = lines.filter((l) => l.includes(secret));
      expect({ secret, hits }).toEqual({ secret, hits: [] });
    }
  });
});
