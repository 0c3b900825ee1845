import { Logger } from '@nestjs/common';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RunEntity } from '../backup/entities/run.entity.js';
import type { TaskEntity } from '../backup/entities/task.entity.js';
import type { RunsRepository } from '../backup/runs.repository.js';
import type { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import type { Mailer, WebhookClient } from './mailer.js';
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

/** See `NotificationsService.perTask`. */
export const NOTIFICATIONS_PER_TASK_PER_HOUR = 30;

/** How many run errors a message lists. */
const FIRST_ERRORS = 10;

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
  /**
   * Messages (mail and webhook together) per task per hour: a task run in a loop must not turn
   * the operator's SMTP server into a mass mailer. 30 covers a run every two minutes.
   */
  private readonly perTask = new RateLimiterMemory({
    keyPrefix: 'cbe-notify',
    points: NOTIFICATIONS_PER_TASK_PER_HOUR,
    duration: 3600,
  });

  constructor(
    private readonly tasks: TasksRepository,
    private readonly runs: RunsRepository,
    private readonly smtp: SmtpSettingsService,
    private readonly mailer: Mailer,
    private readonly webhooks: WebhookClient,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    /** Whether a task owner's webhook goes through the outbound address policy (non-admins). */
    private readonly outbound?: { restrictsOutbound(ownerId: string | null): Promise<boolean> },
  ) {}

  listen(bus: EventSource, events: { completed: string; failed: string }): void {
    const onRun = (run: RunEntity) => this.track(this.onRunFinished(run));
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

  async onRunFinished(run: RunEntity): Promise<void> {
    if (run.kind !== 'backup' && run.kind !== 'restore') return;
    if (run.status !== 'completed' && run.status !== 'failed') return;
    const task = await this.tasks.findById(run.taskId);
    if (!task || !wants(task, run)) return;
    const fresh = (await this.runs.findById(run.id)) ?? run;
    const errors = await this.runs.listEvents(run.id, { levels: ['error'], limit: FIRST_ERRORS });
    const summary = summarizeRun(fresh, task.name, errors, this.publicUrl);
    if (!(await this.withinRate(task.id))) {
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
    const using = await this.tasks.listUsingAccount(e.accountId);
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

  private async withinRate(taskId: string): Promise<boolean> {
    try {
      await this.perTask.consume(taskId, 1);
      return true;
    } catch {
      return false;
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
    await this.runs.addEvents([
      {
        runId,
        level: 'warning',
        path: null,
        code: 'notification',
        message: `${what}: ${msg(e)}`,
        at: this.clock.now(),
      },
    ]);
  }
}

function wants(task: TaskEntity, run: RunEntity): boolean {
  switch (task.notifyOn) {
    case 'always':
      return true;
    case 'completion':
      return run.status === 'completed';
    case 'failure':
      return run.status === 'failed';
  }
}

function eventName(run: RunEntity): string {
  return run.status === 'completed' ? 'backup.run.completed' : 'backup.run.failed';
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
