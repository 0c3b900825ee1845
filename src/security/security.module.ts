import { Module } from '@nestjs/common';
import { SetupGate } from '../auth/setup-token.js';
import { UserEntity } from '../auth/user.entity.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { SettingsRepository } from '../notifications/settings.repository.js';
import { Database } from '../persistence/database.js';
import { APP_CONFIG, CLOCK } from '../tokens.js';
import { AccessPolicy } from './access-policy.js';
import { LocalRootsSettings } from './local-roots.settings.js';
import { OutboundPolicy } from './outbound-policy.js';

/**
 * The access policy (local folders, outbound addresses, provider endpoints) and the first-start
 * gate. Imports no feature module: accounts, notifications and the HTTP API import it.
 */
@Module({
  providers: [
    {
      provide: OutboundPolicy,
      useFactory: (config: AppConfig) => new OutboundPolicy(config.security.outboundAllow),
      inject: [APP_CONFIG],
    },
    {
      provide: SetupGate,
      useFactory: (config: AppConfig) => new SetupGate(config),
      inject: [APP_CONFIG],
    },
    {
      provide: LocalRootsSettings,
      // Its own handle on the settings table: notifications (which owns SMTP's) imports accounts.
      useFactory: (db: Database, config: AppConfig, c: Clock) =>
        new LocalRootsSettings(new SettingsRepository(db), config.security.localRoots, c),
      inject: [Database, APP_CONFIG, CLOCK],
    },
    {
      provide: AccessPolicy,
      useFactory: (
        db: Database,
        config: AppConfig,
        roots: LocalRootsSettings,
        outbound: OutboundPolicy,
      ) =>
        new AccessPolicy(
          config.security,
          async (id) =>
            (await db.dataSource.getRepository(UserEntity).findOneBy({ id })) ?? undefined,
          roots,
          outbound,
        ),
      inject: [Database, APP_CONFIG, LocalRootsSettings, OutboundPolicy],
    },
  ],
  exports: [OutboundPolicy, SetupGate, LocalRootsSettings, AccessPolicy],
})
export class SecurityModule {}
