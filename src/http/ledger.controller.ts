import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { LedgerImportService } from '../version-requests/ledger-import.service.js';
import { VersionsService } from '../versions/versions.service.js';
import { ImportLedgerDto } from './dto/restore.dto.js';
import { toTaskView, toVersionView } from './views.js';

/** A task's ledger rebuilt from the manifests on a backup target (a fresh install). */
@ApiTags('versions')
@Controller('api')
export class LedgerController {
  constructor(
    private readonly importer: LedgerImportService,
    private readonly versions: VersionsService,
    private readonly owners: Ownership,
  ) {}

  /** Rebuilds a task's ledger from the manifests on a backup target (a fresh install). */
  @Post('ledger/import')
  async importLedger(@CurrentUser() p: Principal, @Body() dto: ImportLedgerDto) {
    await this.owners.usableAccounts(p, {
      sourceAccountId: dto.sourceAccountId,
      targetAccountId: dto.targetAccountId,
    });
    const r = await this.importer.importLedger(dto, p.user.id);
    const versions = await this.versions.listVersions(r.task.id);
    return { task: toTaskView(r.task), versions: versions.map(toVersionView), records: r.records };
  }
}
