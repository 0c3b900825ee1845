import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import { normalizePath } from '../connectors/path.js';
import { VersionsService } from '../versions/versions.service.js';
import { VersionFilesQuery } from './dto/query.dto.js';
import { toVersionView } from './views.js';

@ApiTags('versions')
@Controller('api/versions')
export class VersionsController {
  constructor(
    private readonly versions: VersionsService,
    private readonly owners: Ownership,
  ) {}

  @Get(':id')
  async get(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.version(p, id);
    return toVersionView(await this.versions.getVersion(id));
  }

  /** The files a version holds, paged by `afterId`, optionally under one folder. */
  @Get(':id/files')
  async files(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: VersionFilesQuery) {
    await this.owners.version(p, id);
    let prefix: string | undefined;
    try {
      prefix = q.prefix ? normalizePath(q.prefix) : undefined;
    } catch (e) {
      throw new ValidationAppError([`prefix: ${(e as Error).message}`]);
    }
    const page = await this.versions.listFiles(id, {
      prefix,
      afterId: q.afterId,
      limit: q.limit ?? 500,
    });
    return {
      files: page.files.map((f) => ({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        modifiedAt: f.modifiedAt,
        storedPath: f.storedPath,
        storedInVersion: f.firstSeq,
      })),
      nextAfterId: page.nextAfterId ?? null,
    };
  }
}
