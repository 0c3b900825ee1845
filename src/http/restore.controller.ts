import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RunView, VersionDiffView, VersionTreeView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import { normalizePath } from '../connectors/path.js';
import { RestoreService } from '../version-requests/restore.service.js';
import { VersionsService } from '../versions/versions.service.js';
import { DiffQuery, RestoreDto, TreeQuery } from './dto/restore.dto.js';
import { toRunView } from './views.js';

/** Restoring a version, and the two views a restore is chosen from: its tree and its diff. */
@ApiTags('versions')
@Controller('api')
export class RestoreController {
  constructor(
    private readonly restores: RestoreService,
    private readonly versions: VersionsService,
    private readonly owners: Ownership,
  ) {}

  /** Restores a version, or some of its files and folders, to where they came from or elsewhere. */
  @Post('versions/:id/restore')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunView })
  async restore(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: RestoreDto) {
    await this.owners.version(p, id);
    await this.owners.usableAccounts(p, {
      'destination.accountId': dto.destination?.accountId,
    });
    return toRunView(await this.restores.startRestore(id, dto));
  }

  /** One folder of a version: sub-folders and files. */
  @Get('versions/:id/tree')
  @ApiOkResponse({ type: VersionTreeView })
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
  @ApiOkResponse({ type: VersionDiffView })
  async diff(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: DiffQuery) {
    await this.owners.version(p, id);
    await this.owners.version(p, q.against);
    return this.versions.diff(q.against, id);
  }
}
