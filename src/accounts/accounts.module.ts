import { Module } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { ConnectorRegistry } from '../connectors/connector.registry.js';
import { Database } from '../persistence/database.js';
import { APP_CONFIG, CLOCK, OAUTH_STATE_STORE } from '../tokens.js';
import { AccountsRepository } from './accounts.repository.js';
import { AccountsService } from './accounts.service.js';
import { ICloudSignInService } from './icloud-sign-in.service.js';
import { OAuthConnectService } from './oauth-connect.service.js';
import type { OAuthStateStore } from './oauth-state.store.js';
import { SecretVault } from './secret-vault.js';
import { AccessPolicy } from '../security/access-policy.js';
import { SecurityModule } from '../security/security.module.js';

/** Connected cloud accounts: the vault, OAuth consent, the iCloud sign-in, token refresh. */
@Module({
  imports: [SecurityModule],
  providers: [
    {
      provide: SecretVault,
      useFactory: (config: AppConfig) => SecretVault.open(config.secrets),
      inject: [APP_CONFIG],
    },
    {
      provide: AccountsRepository,
      useFactory: (db: Database) => new AccountsRepository(db),
      inject: [Database],
    },
    {
      provide: AccountsService,
      useFactory: (
        r: AccountsRepository,
        reg: ConnectorRegistry,
        v: SecretVault,
        c: Clock,
        bus: EventEmitter2,
        access: AccessPolicy,
      ) => new AccountsService(r, reg, v, c, bus, access),
      inject: [
        AccountsRepository,
        ConnectorRegistry,
        SecretVault,
        CLOCK,
        EventEmitter2,
        AccessPolicy,
      ],
    },
    {
      provide: OAuthConnectService,
      useFactory: (
        a: AccountsService,
        reg: ConnectorRegistry,
        config: AppConfig,
        store: OAuthStateStore,
        c: Clock,
      ) => new OAuthConnectService(a, reg, config.oauth, config.publicUrl, store, c),
      inject: [AccountsService, ConnectorRegistry, APP_CONFIG, OAUTH_STATE_STORE, CLOCK],
    },
    {
      provide: ICloudSignInService,
      useFactory: (a: AccountsService, reg: ConnectorRegistry) => new ICloudSignInService(a, reg),
      inject: [AccountsService, ConnectorRegistry],
    },
  ],
  exports: [
    SecretVault,
    AccountsRepository,
    AccountsService,
    OAuthConnectService,
    ICloudSignInService,
  ],
})
export class AccountsModule {}
