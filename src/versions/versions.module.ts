import { Module } from '@nestjs/common';
import { Database } from '../persistence/database.js';
import { VersionLedgerRepository } from './version-ledger.repository.js';
import { VersionsService } from './versions.service.js';

/** The version ledger: versions, their files, manifests, retention. */
@Module({
  providers: [
    {
      provide: VersionLedgerRepository,
      useFactory: (db: Database) => new VersionLedgerRepository(db),
      inject: [Database],
    },
    {
      provide: VersionsService,
      useFactory: (l: VersionLedgerRepository) => new VersionsService(l),
      inject: [VersionLedgerRepository],
    },
  ],
  exports: [VersionsService],
})
export class VersionsModule {}
