import { EventEmitter } from 'node:events';
import type { RunEventEntity } from '../../../src/backup/entities/run-error.entity.js';
import type { RunEntity } from '../../../src/backup/entities/run.entity.js';
import type { TaskEntity } from '../../../src/backup/entities/task.entity.js';
import type { RunsRepository } from '../../../src/backup/runs.repository.js';
import type { TasksRepository } from '../../../src/backup/tasks.repository.js';
import type { MailMessage, Mailer, SmtpServer } from '../../../src/notifications/mailer.js';
import {
  ACCOUNT_REAUTH_NEEDED,
  NotificationsService,
} from '../../../src/notifications/notifications.service.js';
import type { SmtpSettingsService } from '../../../src/notifications/smtp-settings.service.js';
import { FakeClock } from '../../support/fake-clock.js';

const server: SmtpServer = { host: 'h', port: 25, tls: 'none', from: 'b@x.org' };

function task(patch: Partial<TaskEntity>): TaskEntity {
  return {
    id: 't1',
    name: 'Photos',
    notifyEmails: ['ops@x.org'],
    notifyOn: 'failure',
    webhookUrl: null,
    ...patch,
  } as TaskEntity;
}

function failedRun(): RunEntity {
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
  } as RunEntity;
}

function setup(tasks: TaskEntity[], events: Array<Partial<RunEventEntity>> = []) {
  const sent: MailMessage[] = [];
  const mailer: Mailer = {
    send: async (_s, m) => {
      sent.push(m);
    },
  };
  const added: Array<Omit<RunEventEntity, 'id'>> = [];
  const runs = {
    findById: async () => null,
    listEvents: async () => events,
    addEvents: async (e: Array<Omit<RunEventEntity, 'id'>>) => {
      added.push(...e);
    },
  } as unknown as RunsRepository;
  const repo = {
    findById: async (id: string) => tasks.find((t) => t.id === id) ?? null,
    listUsingAccount: async () => tasks,
  } as unknown as TasksRepository;
  const smtp = { effective: async () => server } as unknown as SmtpSettingsService;
  const sut = new NotificationsService(
    repo,
    runs,
    smtp,
    mailer,
    { post: async () => undefined },
    new FakeClock(),
    'https://b.example',
  );
  return { sut, sent, added };
}

describe('NotificationsService', () => {
  it('should list the first errors, counts and duration when a run failed', async () => {
    const { sut, sent } = setup(
      [task({})],
      [
        { path: 'a/IMG_1.jpg', message: 'quota exceeded' },
        { path: 'b/IMG_2.jpg', message: 'connection reset' },
      ],
    );
    await sut.onRunFinished(failedRun());
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
