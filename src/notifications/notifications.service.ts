import { Logger } from '@nestjs/common';
import type { TaskNotificationSettings } from '../tasks/tasks.service.js';
import type { RunFinishedEvent } from '../runs/run-events.js';
import type { Mailer, WebhookClient } from './mailer.js';
import {
  InMemoryNotificationRate,
  NOTIFICATIONS_PER_TASK_PER_HOUR,
  type NotificationRate,
} from './notification-rate.js';
import { esc, runMessage, summarizeRun } from './run-message.js';
import type { SmtpSettingsService } from './smtp-settings.service.js';

/** Emitted by the accounts service when an account's credentials stopped working. */
export const ACCOUNT_REAUTH_NEEDED = 'account.reauth.needed';

export interface AccountReauthNeededEvent {
  accountId: string;
  accountName: string;
  kind: string;
  message: string;
}

export { NOTIFICATIONS_PER_TASK_PER_HOUR };

/** Who is told about a task's runs: the tasks module's service (TasksService) answers. */
export interface TaskNotificationDirectory {
  notificationSettings(taskId: string): Promise<TaskNotificationSettings | null>;
  notificationSettingsUsingAccount(accountId: string): Promise<TaskNotificationSettings[]>;
}

/** Where a notification that failed is noted: the run's log (RunsService). */
export interface RunNotes {
  note(runId: string, code: string, message: string): Promise<void>;
}

/** The events the service listens to; EventEmitter2 in the app, anything with `on` in tests. */
export interface EventSource {
  on(event: string, listener: (payload: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Mails and webhooks driven by events: a finished run (per the task's `notifyOn`), an account
 * that needs a new sign-in. Nobody calls it. A mail server or webhook that fails never changes
 * the run: the failure is written to the run's log as a warning.
 */
export class NotificationsService {
  private readonly logger = new Logger('Notifications');
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly tasks: TaskNotificationDirectory,
    private readonly runs: RunNotes,
    private readonly smtp: SmtpSettingsService,
    private readonly mailer: Mailer,
    private readonly webhooks: WebhookClient,
    private readonly publicUrl: string,
    /** Whether a task owner's webhook goes through the outbound address policy (non-admins). */
    private readonly outbound?: { restrictsOutbound(ownerId: string | null): Promise<boolean> },
    /** Messages per task per hour, mail and webhook together (cluster-wide in a cluster). */
    private readonly rate: NotificationRate = new InMemoryNotificationRate(),
  ) {}

  listen(bus: EventSource, events: { completed: string; failed: string }): void {
    const onRun = (run: RunFinishedEvent) => this.track(this.onRunFinished(run));
    bus.on(events.completed, onRun);
    bus.on(events.failed, onRun);
    bus.on(ACCOUNT_REAUTH_NEEDED, (e: AccountReauthNeededEvent) =>
      this.track(this.onReauthNeeded(e)),
    );
  }

  /** Resolves when every notification started so far has been sent or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Builds the message from the final event alone (the run row, first errors, a held version). */
  async onRunFinished(run: RunFinishedEvent): Promise<void> {
    if (run.kind !== 'backup' && run.kind !== 'restore' && run.kind !== 'verify') return;
    if (!['completed', 'warning', 'failed', 'offline'].includes(run.status)) return;
    const task = await this.tasks.notificationSettings(run.taskId);
    if (!task || !wants(task, run)) return;
    const summary = summarizeRun(run, task.name, this.publicUrl);
    if (!(await this.withinRate(task.id, run.id))) {
      await this.warn(
        run.id,
        `no notification sent: more than ${NOTIFICATIONS_PER_TASK_PER_HOUR} for this task in the last hour`,
        new Error('rate limit'),
      );
      return;
    }
    if (task.notifyEmails.length > 0) {
      try {
        const server = await this.smtp.effective();
        if (!server) throw new Error('no SMTP server is configured (SMTP_* or /api/settings/smtp)');
        await this.mailer.send(server, runMessage(summary, task.notifyEmails));
      } catch (e) {
        await this.warn(run.id, `e-mail to ${task.notifyEmails.join(', ')} was not sent`, e);
      }
    }
    if (task.webhookUrl) {
      try {
        const restricted = (await this.outbound?.restrictsOutbound(task.ownerId)) ?? false;
        await this.webhooks.post(
          task.webhookUrl,
          { event: eventName(run), ...summary },
          { restricted },
        );
      } catch (e) {
        await this.warn(run.id, `webhook ${redactUrl(task.webhookUrl)} failed`, e);
      }
    }
  }

  async onReauthNeeded(e: AccountReauthNeededEvent): Promise<void> {
    const using = await this.tasks.notificationSettingsUsingAccount(e.accountId);
    const to = [...new Set(using.flatMap((t) => t.notifyEmails))];
    if (to.length === 0) return;
    const server = await this.smtp.effective();
    if (!server) {
      this.logger.warn(`account ${e.accountId} needs a new sign-in, but no SMTP server is set`);
      return;
    }
    const url = `${this.publicUrl}/#/accounts/${e.accountId}`;
    const names = using.map((t) => t.name).join(', ');
    try {
      await this.mailer.send(server, {
        to,
        subject: `Account "${e.accountName}" needs a new sign-in`,
        text: [
          `The ${e.kind} account "${e.accountName}" needs a new sign-in (or a new code): ${e.message}`,
          `Backups that use it stop until then: ${names}.`,
          '',
          `Sign in again: ${url}`,
          '',
        ].join('\n'),
        html: [
          `<p>The ${esc(e.kind)} account <b>${esc(e.accountName)}</b> needs a new sign-in (or a new code): ${esc(e.message)}</p>`,
          `<p>Backups that use it stop until then: ${esc(names)}.</p>`,
          `<p><a href="${esc(url)}">Sign in again</a></p>`,
        ].join('\n'),
      });
    } catch (err) {
      this.logger.warn(`re-authentication mail for account ${e.accountId} failed: ${msg(err)}`);
    }
  }

  private async withinRate(taskId: string, runId: string): Promise<boolean> {
    try {
      return await this.rate.take(taskId);
    } catch (e) {
      // The counter is unreachable (Redis down): better one mail too many than a lost failure.
      this.logger.warn(`run ${runId}: notification rate not counted: ${msg(e)}`);
      return true;
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((e: unknown) =>
        this.logger.error(`notification failed: ${(e as Error).stack ?? String(e)}`),
      )
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async warn(runId: string, what: string, e: unknown): Promise<void> {
    this.logger.warn(`run ${runId}: ${what}: ${msg(e)}`);
    await this.runs.note(runId, 'notification', `${what}: ${msg(e)}`);
  }
}

function wants(task: TaskNotificationSettings, run: RunFinishedEvent): boolean {
  switch (task.notifyOn) {
    case 'always':
      return true;
    case 'completion':
      return run.status === 'completed' || run.status === 'warning';
    case 'failure':
      // A warning needs the owner too: a version held by the deletion guard, skipped files.
      return run.status === 'failed' || run.status === 'offline' || run.status === 'warning';
  }
}

function eventName(run: RunFinishedEvent): string {
  return run.status === 'completed' || run.status === 'warning'
    ? 'backup.run.completed'
    : 'backup.run.failed';
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Webhook URLs often carry a token in the path or query: the log shows the host only. */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'URL';
  }
}
