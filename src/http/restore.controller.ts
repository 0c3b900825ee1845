import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { LedgerImportService } from '../backup/ledger-import.service.js';
import { RestoreService } from '../backup/restore.service.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import { normalizePath } from '../connectors/path.js';
import { VersionsService } from '../versions/versions.service.js';
import {
  DiffQuery,
  ImportLedgerDto,
  PrunePreviewQuery,
  VerifyDto,
  RestoreDto,
  RetentionDto,
  TreeQuery,
} from './dto/restore.dto.js';
import { toRunView, toTaskView, toVersionView } from './views.js';

@ApiTags('versions')
@Controller('api')
export class RestoreController {
  constructor(
    private readonly restores: RestoreService,
    private readonly versions: VersionsService,
    private readonly importer: LedgerImportService,
    private readonly owners: Ownership,
  ) {}

  /** Restores a version, or some of its files and folders, to where they came from or elsewhere. */
  @Post('versions/:id/restore')
  @HttpCode(202)
  async restore(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: RestoreDto) {
    await this.owners.version(p, id);
    await this.owners.usableAccounts(p, {
      'destination.accountId': dto.destination?.accountId,
    });
    return toRunView(await this.restores.startRestore(id, dto));
  }

  /** One folder of a version: sub-folders and files. */
  @Get('versions/:id/tree')
  async tree(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: TreeQuery) {
    await this.owners.version(p, id);
    let folder: string;
    try {
      folder = normalizePath(q.path ?? '');
    } catch (e) {
      throw new ValidationAppError([`path: ${(e as Error).message}`]);
    }
    const listing = await this.versions.listFolder(id, folder);
    return {
      path: folder,
      folders: listing.folders,
      files: listing.files.map((f) => ({
        name: f.path.slice(folder === '' ? 0 : folder.length + 1),
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        modifiedAt: f.modifiedAt,
        storedInVersion: f.firstSeq,
      })),
      truncated: listing.truncated,
    };
  }

  /** What was added, changed and deleted between two versions of a task. */
  @Get('versions/:id/diff')
  async diff(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: DiffQuery) {
    await this.owners.version(p, id);
    await this.owners.version(p, q.against);
    return this.versions.diff(q.against, id);
  }

  @Put('tasks/:id/retention')
  async retention(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: RetentionDto) {
    await this.owners.task(p, id);
    return { retention: await this.restores.setRetention(id, dto) };
  }

  /** Verifies one version: every stored copy listed (exists, size), `readPercent` read back. */
  @Post('versions/:id/verify')
  @HttpCode(202)
  async verifyVersion(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Body() dto: VerifyDto,
  ) {
    await this.owners.version(p, id);
    const v = await this.versions.getVersion(id);
    return toRunView(await this.restores.startVerify(v.taskId, { versionId: id, ...dto }));
  }

  /** Verifies every version of a task. */
  @Post('tasks/:id/verify')
  @HttpCode(202)
  async verifyTask(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: VerifyDto) {
    await this.owners.task(p, id);
    return toRunView(await this.restores.startVerify(id, dto));
  }

  /** Verifies everything on a target account: one verify run per task stored there. */
  @Post('accounts/:id/verify')
  @HttpCode(202)
  async verifyTarget(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: VerifyDto) {
    await this.owners.account(p, id);
    const runs = await this.restores.startVerifyTarget(id, p.user.id, dto.readPercent);
    return runs.map(toRunView);
  }

  /**
   * What a retention policy (the query's, else the task's) would delete, deleting nothing:
   * versions, stored files and bytes freed.
   */
  @Get('tasks/:id/prune/preview')
  async prunePreview(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Query() q: PrunePreviewQuery,
  ) {
    await this.owners.task(p, id);
    const r = await this.restores.previewPrune(id, { ...q });
    return {
      policy: r.policy,
      versions: r.versions.map((v) => ({
        id: v.id,
        seq: v.seq,
        status: v.status,
        createdAt: v.createdAt,
      })),
      files: r.files,
      bytes: r.bytes,
    };
  }

  /** Applies the task's retention policy now (it also runs after every completed backup). */
  @Post('tasks/:id/prune')
  @HttpCode(202)
  async prune(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.task(p, id);
    return toRunView(await this.restores.startPrune(id));
  }

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
