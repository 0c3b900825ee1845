import type { Provider } from '@nestjs/common';
import { SetupGate } from '../auth/setup-token.js';
import { UserEntity } from '../auth/user.entity.js';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { SettingsRepository } from '../notifications/settings.repository.js';
import { Database } from '../persistence/database.js';
import { CLOCK } from '../tokens.js';
import { AccessPolicy } from './access-policy.js';
import { LocalRootsSettings } from './local-roots.settings.js';
import { OutboundPolicy } from './outbound-policy.js';

/** The access policy (local folders, outbound addresses, endpoints) and the first-start gate. */
export function securityProviders(config: AppConfig): Provider[] {
  return [
    { provide: OutboundPolicy, useValue: new OutboundPolicy(config.security.outboundAllow) },
    { provide: SetupGate, useValue: new SetupGate(config) },
    {
      provide: LocalRootsSettings,
      useFactory: (s: SettingsRepository, c: Clock) =>
        new LocalRootsSettings(s, config.security.localRoots, c),
      inject: [SettingsRepository, CLOCK],
    },
    {
      provide: AccessPolicy,
      useFactory: (db: Database, roots: LocalRootsSettings, outbound: OutboundPolicy) =>
        new AccessPolicy(
          config.security,
          async (id) =>
            (await db.dataSource.getRepository(UserEntity).findOneBy({ id })) ?? undefined,
          roots,
          outbound,
        ),
      inject: [Database, LocalRootsSettings, OutboundPolicy],
    },
  ];
}
