import type { Provider } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SecretVault } from '../accounts/secret-vault.js';
import { RUN_EVENTS } from '../backup/run-events.js';
import { RunsRepository } from '../backup/runs.repository.js';
import { TasksRepository } from '../backup/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { Database } from '../persistence/database.js';
import { CLOCK } from '../tokens.js';
import { AccessPolicy } from '../security/access-policy.js';
import { HttpWebhookClient, NodemailerMailer, type Mailer } from './mailer.js';
import { NotificationsService } from './notifications.service.js';
import { SettingsRepository } from './settings.repository.js';
import { SmtpSettingsService } from './smtp-settings.service.js';

export const MAILER = Symbol('MAILER');

/** Settings, SMTP and the notifications listener (subscribed to the bus when created). */
export function notificationsProviders(config: AppConfig): Provider[] {
  return [
    { provide: MAILER, useValue: new NodemailerMailer() },
    {
      provide: SettingsRepository,
      useFactory: (db: Database) => new SettingsRepository(db),
      inject: [Database],
    },
    {
      provide: SmtpSettingsService,
      useFactory: (s: SettingsRepository, v: SecretVault, c: Clock, m: Mailer) =>
        new SmtpSettingsService(s, v, config.smtp, c, m),
      inject: [SettingsRepository, SecretVault, CLOCK, MAILER],
    },
    {
      provide: NotificationsService,
      useFactory: (
        tasks: TasksRepository,
        runs: RunsRepository,
        smtp: SmtpSettingsService,
        mailer: Mailer,
        clock: Clock,
        bus: EventEmitter2,
        access: AccessPolicy,
      ) => {
        const service = new NotificationsService(
          tasks,
          runs,
          smtp,
          mailer,
          new HttpWebhookClient(access.outbound),
          clock,
          config.publicUrl,
          access,
        );
        service.listen(bus, RUN_EVENTS);
        return service;
      },
      inject: [
        TasksRepository,
        RunsRepository,
        SmtpSettingsService,
        MAILER,
        CLOCK,
        EventEmitter2,
        AccessPolicy,
      ],
    },
  ];
}
