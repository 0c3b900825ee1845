import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmtpSink, type ReceivedMail } from '../support/smtp-sink.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type RunView, type TestApp } from '../support/test-app.js';

/**
 * Issue 18: an offline run, a version held by the deletion guard and a run that skipped files
 * are "mailed to the task's recipients", and the mail must say what the owner needs: what is
 * missing and that nothing was written; what the held version would delete, that nothing was
 * pruned and how to approve or discard it; which files were skipped and why. Read from a real
 * SMTP server, as the owner's mailbox would receive it.
 */
describe('the mail of an offline, held or warning run', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let dir: string;
  const PUBLIC = 'https://backup.example.org';

  async function account(name: string, root: string): Promise<string> {
    return (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name, options: { root } })
        .expect(201)
    ).body.id;
  }

  async function task(name: string, src: string, dst: string): Promise<string> {
    const body = {
      name,
      sourceAccountId: await account(`${name}-src`, src),
      targetAccountId: await account(`${name}-dst`, dst),
      targetPath: 'B',
      notifications: { emails: ['owner@example.com'], on: 'failure' },
    };
    return (await t.http.post('/api/tasks').send(body).expect(201)).body.id;
  }

  async function backup(taskId: string): Promise<RunView> {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    return waitForRun(t.http, started.body.id);
  }

  /** The one mail a run caused (the sink is emptied first). */
  async function mailOf(run: () => Promise<RunView>): Promise<[RunView, ReceivedMail]> {
    smtp.received.length = 0;
    const r = await run();
    const [mail] = await smtp.waitFor(1);
    return [r, mail!];
  }

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      env: {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_TLS: 'none',
        SMTP_FROM: 'Backups <backup@test.local>',
        PUBLIC_URL: PUBLIC,
      },
    });
    dir = await mkdtemp(join(tmpdir(), 'cbe-outcome-mail-'));
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should tell the owner of an unplugged drive what is missing and that nothing was written', async () => {
    const src = join(dir, 'o-src');
    const drive = join(dir, 'o-usb');
    await writeTree(src, { 'a.jpg': patternBytes(3000, 1) });
    await mkdir(drive);
    const taskId = await task('Holidays', src, drive);
    expect((await backup(taskId)).status).toBe('completed');
    await rename(drive, join(dir, 'o-usb-unplugged'));

    const [run, mail] = await mailOf(() => backup(taskId));

    expect(run.status).toBe('offline');
    expect(mail.to).toEqual(['owner@example.com']);
    expect(mail.subject).toBe('Backup "Holidays" OFFLINE, nothing written');
    expect(mail.text).toContain('Result: offline: the target is offline');
    expect(mail.text).toContain(drive); // the missing drive's folder, by name
    expect(mail.text).toContain('Nothing was written');
    expect(mail.text).toContain('every earlier version is kept');
    expect(mail.text).toContain('Copied: 0 file(s)');
    expect(mail.html).toContain('OFFLINE, nothing written');
  });

  it('should tell what a held version would delete, that nothing was pruned, and how to approve or discard it', async () => {
    const src = join(dir, 'h-src');
    const dst = join(dir, 'h-dst');
    await writeTree(
      src,
      Object.fromEntries(
        Array.from({ length: 25 }, (_, i) => [`album/${i}.jpg`, patternBytes(1000 + i, i + 1)]),
      ),
    );
    await mkdir(dst);
    const taskId = await task('Album', src, dst);
    await t.http.put(`/api/tasks/${taskId}/retention`).send({ keepLast: 1 }).expect(200);
    expect((await backup(taskId)).status).toBe('completed');
    await rm(join(src, 'album'), { recursive: true });

    const [run, mail] = await mailOf(() => backup(taskId));

    expect(run.status).toBe('warning');
    const versions = (await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as Array<{
      id: string;
      status: string;
    }>;
    const held = versions.find((v) => v.status === 'held')!;
    expect(mail.subject).toBe('Backup "Album" completed, version HELD for approval');
    expect(mail.text).toContain('it would delete 25 of the 25 files of the last complete version');
    expect(mail.text).toContain('the source listed no files at all');
    expect(mail.text).toContain('Nothing was pruned');
    expect(mail.text).toContain(`${PUBLIC}/#/tasks/${taskId}/versions`);
    expect(mail.text).toContain(`POST ${PUBLIC}/api/versions/${held.id}/approve`);
    expect(mail.text).toContain(`POST ${PUBLIC}/api/versions/${held.id}/discard`);
    expect(mail.html).toContain(`<a href="${PUBLIC}/#/tasks/${taskId}/versions">`);
    // What the mail says is so: the earlier version is still there.
    expect(versions.filter((v) => v.status === 'complete')).toHaveLength(1);
  });

  it('should name each skipped file and why when a run completed with warnings', async () => {
    const src = join(dir, 'w-src');
    const dst = join(dir, 'w-dst');
    await writeTree(src, {
      'ok/1.jpg': patternBytes(2000, 1),
      'back\\slash.jpg': 'a name with a backslash',
      'ctl\u0001.jpg': 'a name with a control character',
    });
    await mkdir(dst);
    const taskId = await task('Bad names', src, dst);

    const [run, mail] = await mailOf(() => backup(taskId));

    expect(run).toMatchObject({ status: 'warning', filesCopied: 1, filesFailed: 2 });
    expect(mail.subject).toBe('Backup "Bad names" completed with WARNINGS');
    expect(mail.text).toContain('Skipped: 2 file(s)');
    expect(mail.text).toContain(
      'Skipped files (not in this version; the next run tries them again):',
    );
    expect(mail.text).toMatch(/- back\\slash\.jpg: .*backslash/);
    const ctl = mail.text.split('\n').find((l) => l.startsWith('- ctl\u0001.jpg: '));
    expect(ctl).toContain('control character');
    expect(await readdir(join(dst, 'B'))).toBeDefined();
  });
});
