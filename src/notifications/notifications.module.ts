import {
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AccountsModule } from '../accounts/accounts.module.js';
import { SecretVault } from '../accounts/secret-vault.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { TasksService } from '../tasks/tasks.service.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Database } from '../persistence/database.js';
import { RUN_EVENTS } from '../runs/run-events.js';
import { RunsModule } from '../runs/runs.module.js';
import { RunsService } from '../runs/runs.service.js';
import { APP_CONFIG, CLOCK, NOTIFICATION_RATE } from '../tokens.js';
import { AccessPolicy } from '../security/access-policy.js';
import { SecurityModule } from '../security/security.module.js';
import { HttpWebhookClient, NodemailerMailer, type Mailer } from './mailer.js';
import type { NotificationRate } from './notification-rate.js';
import { NotificationsService } from './notifications.service.js';
import { SettingsRepository } from './settings.repository.js';
import { SmtpSettingsService } from './smtp-settings.service.js';

export const MAILER = Symbol('MAILER');

/** On shutdown, mails already started are sent (or given up) before the process ends. */
@Injectable()
class NotificationsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(NotificationsService) private readonly notifications: NotificationsService) {}

  async onApplicationShutdown(): Promise<void> {
    await this.notifications.idle();
  }
}

const providers: Provider[] = [
  { provide: MAILER, useValue: new NodemailerMailer() },
  {
    provide: SettingsRepository,
    useFactory: (db: Database) => new SettingsRepository(db),
    inject: [Database],
  },
  {
    provide: SmtpSettingsService,
    useFactory: (s: SettingsRepository, v: SecretVault, c: Clock, m: Mailer, config: AppConfig) =>
      new SmtpSettingsService(s, v, config.smtp, c, m),
    inject: [SettingsRepository, SecretVault, CLOCK, MAILER, APP_CONFIG],
  },
  {
    provide: NotificationsService,
    useFactory: (
      tasks: TasksService,
      runs: RunsService,
      smtp: SmtpSettingsService,
      mailer: Mailer,
      bus: EventEmitter2,
      config: AppConfig,
      access: AccessPolicy,
      rate: NotificationRate,
    ) => {
      const service = new NotificationsService(
        tasks,
        runs,
        smtp,
        mailer,
        new HttpWebhookClient(access.outbound),
        config.publicUrl,
        access,
        rate,
      );
      // Nobody calls notifications: they follow run events (and 'account.reauth.needed').
      service.listen(bus, RUN_EVENTS);
      return service;
    },
    inject: [
      TasksService,
      RunsService,
      SmtpSettingsService,
      MAILER,
      EventEmitter2,
      APP_CONFIG,
      AccessPolicy,
      NOTIFICATION_RATE,
    ],
  },
  NotificationsLifecycle,
];

/** Mail (SMTP settings) and webhooks, driven by run and account events. */
@Module({
  imports: [AccountsModule, TasksModule, RunsModule, SecurityModule],
  providers,
  exports: [SmtpSettingsService, NotificationsService],
})
export class NotificationsModule {}
