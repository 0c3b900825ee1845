import { EventEmitter } from 'node:events';
import type { TaskNotificationSettings } from '../../../src/tasks/tasks.service.js';
import type { MailMessage, Mailer, SmtpServer } from '../../../src/notifications/mailer.js';
import { InMemoryNotificationRate } from '../../../src/notifications/notification-rate.js';
import {
  ACCOUNT_REAUTH_NEEDED,
  NotificationsService,
  type RunNotes,
  type TaskNotificationDirectory,
} from '../../../src/notifications/notifications.service.js';
import type { SmtpSettingsService } from '../../../src/notifications/smtp-settings.service.js';
import type { RunFinishedEvent } from '../../../src/runs/run-events.js';

const server: SmtpServer = { host: 'h', port: 25, tls: 'none', from: 'b@x.org' };

function task(patch: Partial<TaskNotificationSettings>): TaskNotificationSettings {
  return {
    id: 't1',
    name: 'Photos',
    ownerId: 'u1',
    notifyEmails: ['ops@x.org'],
    notifyOn: 'failure',
    webhookUrl: null,
    ...patch,
  };
}

function failedRun(patch: Partial<RunFinishedEvent> = {}): RunFinishedEvent {
  return {
    id: 'r1',
    taskId: 't1',
    kind: 'backup',
    trigger: 'schedule',
    status: 'failed',
    errorMessage: '2 file(s) could not be copied',
    filesCopied: 3,
    bytesCopied: 3 * 1024 * 1024,
    filesUnchanged: 7,
    filesFailed: 2,
    filesFiltered: 0,
    startedAt: new Date('2026-11-22T03:00:00Z'),
    finishedAt: new Date('2026-11-22T03:01:05Z'),
    versionId: 'v7',
    ...patch,
  } as RunFinishedEvent;
}

function setup(tasks: TaskNotificationSettings[], opts: { rate?: InMemoryNotificationRate } = {}) {
  const sent: MailMessage[] = [];
  const mailer: Mailer = {
    send: async (_s, m) => {
      sent.push(m);
    },
  };
  // Only services: notifications read no repository; the run's facts come in the event.
  const added: string[] = [];
  const runs: RunNotes = {
    note: async (_runId, _code, message) => {
      added.push(message);
    },
  };
  const directory: TaskNotificationDirectory = {
    notificationSettings: async (id) => tasks.find((t) => t.id === id) ?? null,
    notificationSettingsUsingAccount: async () => tasks,
  };
  const smtp = { effective: async () => server } as unknown as SmtpSettingsService;
  const sut = new NotificationsService(
    directory,
    runs,
    smtp,
    mailer,
    { post: async () => undefined },
    'https://b.example',
    undefined,
    opts.rate,
  );
  return { sut, sent, added };
}

describe('NotificationsService', () => {
  it('should list the first errors, counts and duration when a run failed', async () => {
    const { sut, sent } = setup([task({})]);
    await sut.onRunFinished(
      failedRun({
        firstErrors: [
          { path: 'a/IMG_1.jpg', message: 'quota exceeded' },
          { path: 'b/IMG_2.jpg', message: 'connection reset' },
        ],
      }),
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('Backup "Photos" FAILED');
    expect(sent[0]!.text).toContain('Result: failed: 2 file(s) could not be copied');
    expect(sent[0]!.text).toContain('Copied: 3 file(s), 3.0 MiB (3145728 bytes)');
    expect(sent[0]!.text).toContain('Duration: 1 min 5 s');
    expect(sent[0]!.text).toContain(
      '- a/IMG_1.jpg: quota exceeded\n- b/IMG_2.jpg: connection reset',
    );
    expect(sent[0]!.html).toContain('<li>a/IMG_1.jpg: quota exceeded</li>');
    expect(sent[0]!.text).toContain('https://b.example/#/runs/r1');
  });

  it('should say what is missing and that nothing was written when a run ended offline', async () => {
    const { sut, sent } = setup([task({})]);
    await sut.onRunFinished(
      failedRun({
        status: 'offline',
        filesCopied: 0,
        bytesCopied: 0,
        errorMessage:
          "the target is offline: the folder 'backups', which holds the earlier versions, is not there",
      }),
    );
    expect(sent[0]!.subject).toBe('Backup "Photos" OFFLINE, nothing written');
    expect(sent[0]!.text).toContain("the folder 'backups', which holds the earlier versions");
    expect(sent[0]!.text).toContain('Nothing was written');
    expect(sent[0]!.text).toContain('every earlier version is kept');
    expect(sent[0]!.text).not.toContain('failed.');
  });

  it('should say what a held version would delete, that nothing was pruned, and how to decide', async () => {
    const { sut, sent } = setup([task({ notifyOn: 'failure' })]);
    await sut.onRunFinished(
      failedRun({
        status: 'warning',
        errorMessage: 'version held for approval: the source listed no files at all',
        held: {
          versionId: 'v7',
          reason: 'the source listed no files at all, where the last complete version held 30',
          deleted: 30,
          changed: 0,
          previousFileCount: 30,
        },
      }),
    );
    const m = sent[0]!;
    expect(m.subject).toBe('Backup "Photos" completed, version HELD for approval');
    expect(m.text).toContain('it would delete 30 of the 30 files of the last complete version');
    expect(m.text).toContain('Nothing was pruned');
    expect(m.text).toContain('https://b.example/#/tasks/t1/versions');
    expect(m.text).toContain('POST https://b.example/api/versions/v7/approve');
    expect(m.text).toContain('POST https://b.example/api/versions/v7/discard');
    expect(m.html).toContain('<a href="https://b.example/#/tasks/t1/versions">');
  });

  it('should list the skipped files and why when a run ended with warnings', async () => {
    const { sut, sent } = setup([task({})]);
    await sut.onRunFinished(
      failedRun({
        status: 'warning',
        filesFailed: 2,
        errorMessage: '2 file(s) skipped (see the run log); the next run tries them again',
        firstErrors: [{ path: 'a\\b.txt', message: "the name 'a\\b.txt' cannot be stored" }],
      }),
    );
    expect(sent[0]!.subject).toBe('Backup "Photos" completed with WARNINGS');
    expect(sent[0]!.text).toContain('Skipped: 2 file(s)');
    expect(sent[0]!.text).toContain(
      'Skipped files (not in this version; the next run tries them again), first 1 of 2:',
    );
    expect(sent[0]!.text).toContain("- a\\b.txt: the name 'a\\b.txt' cannot be stored");
  });

  it('should stop at the task rate and note it in the run log', async () => {
    const { sut, sent, added } = setup([task({})], { rate: new InMemoryNotificationRate(2, 3600) });
    for (let i = 0; i < 3; i++) await sut.onRunFinished(failedRun({ id: `r${i}` }));
    expect(sent).toHaveLength(2);
    expect(added[0]).toContain('no notification sent');
  });

  it('should send nothing when the task only wants completions and the run failed', async () => {
    const { sut, sent } = setup([task({ notifyOn: 'completion' })]);
    await sut.onRunFinished(failedRun());
    expect(sent).toEqual([]);
  });

  it('should escape the task name in the HTML part when it holds markup', async () => {
    const { sut, sent } = setup([task({ name: '<script>x</script>' })]);
    await sut.onRunFinished(failedRun());
    expect(sent[0]!.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(sent[0]!.html).not.toContain('<script>');
  });

  it('should mail the recipients of tasks using an account when it needs a new sign-in', async () => {
    const { sut, sent } = setup([
      task({ id: 't1', name: 'A', notifyEmails: ['a@x.org'] }),
      task({ id: 't2', name: 'B', notifyEmails: ['a@x.org', 'b@x.org'] }),
    ]);
    const bus = new EventEmitter();
    sut.listen(bus, { completed: 'c', failed: 'f' });
    bus.emit(ACCOUNT_REAUTH_NEEDED, {
      accountId: 'acc1',
      accountName: 'Family photos',
      kind: 'icloud-photos',
      message: 'the session expired',
    });
    await sut.idle();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toEqual(['a@x.org', 'b@x.org']);
    expect(sent[0]!.subject).toBe('Account "Family photos" needs a new sign-in');
    expect(sent[0]!.text).toContain('Backups that use it stop until then: A, B.');
    expect(sent[0]!.text).toContain('https://b.example/#/accounts/acc1');
  });
});
