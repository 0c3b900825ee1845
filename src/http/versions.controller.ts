import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApprovalPreviewView, VersionFilesView, VersionView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import type { Response } from 'express';
import { AccountsService } from '../accounts/accounts.service.js';
import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import { normalizePath } from '../connectors/path.js';
import { RetentionService } from '../version-requests/retention.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { VersionsService } from '../versions/versions.service.js';
import { ThumbnailQuery, VersionFilesQuery } from './dto/query.dto.js';
import {
  isImagePath,
  makeThumbnail,
  MAX_THUMBNAIL_INPUT,
  notAnImage,
  tooLargeForThumbnail,
} from './thumbnail.js';
import { toVersionView } from './views.js';

@ApiTags('versions')
@Controller('api/versions')
export class VersionsController {
  constructor(
    private readonly versions: VersionsService,
    private readonly owners: Ownership,
    private readonly retention: RetentionService,
    private readonly tasks: TasksService,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * A held version (the deletion guard stopped it) is fine after all: it becomes complete, and
   * the retention it froze applies again (a prune run follows when the task has a policy).
   */
  @Post(':id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: VersionView })
  async approve(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.version(p, id);
    const v = await this.versions.approveHeld(id);
    await this.retention.pruneAfterApproval(v.taskId);
    return toVersionView(v);
  }

  /**
   * What approving a held version would do: the versions, files and bytes the task's retention
   * would then prune (none when the task keeps every version). 409 when it is not held.
   */
  @Get(':id/approve/preview')
  @ApiOkResponse({ type: ApprovalPreviewView })
  async approvePreview(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.version(p, id);
    const r = await this.retention.previewApproval(id);
    return {
      policy: r.policy,
      versions: r.versions.map((v) => ({ id: v.id, seq: v.seq, status: v.status })),
      files: r.files,
      bytes: r.bytes,
    };
  }

  /**
   * A held version is wrong (the source was emptied by mistake): the ledger goes back to the
   * version before it, the next run compares with that one, and a prune frees what it stored.
   */
  @Post(':id/discard')
  @HttpCode(200)
  @ApiOkResponse({ type: VersionView })
  async discard(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.version(p, id);
    await this.versions.discardHeld(id);
    return toVersionView(await this.versions.getVersion(id));
  }

  @Get(':id')
  @ApiOkResponse({ type: VersionView })
  async get(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.version(p, id);
    return toVersionView(await this.versions.getVersion(id));
  }

  /** The files a version holds, paged by `afterId`, optionally under one folder. */
  @Get(':id/files')
  @ApiOkResponse({ type: VersionFilesView })
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

  /**
   * A small JPEG of an image the version holds (longest side `size`, default 160), read from its
   * stored copy on the target: for the version browser. 415 for a file that is not an image,
   * 413 above 50 MiB.
   */
  @Get(':id/thumbnail')
  async thumbnail(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Query() q: ThumbnailQuery,
    @Res() res: Response,
  ): Promise<void> {
    await this.owners.version(p, id);
    let path: string;
    try {
      path = normalizePath(q.path);
    } catch (e) {
      throw new ValidationAppError([`path: ${(e as Error).message}`]);
    }
    const file = await this.versions.findFile(id, path);
    if (!file) throw new NotFoundAppError(`'${path}' is not in this version`);
    if (!isImagePath(path)) throw notAnImage(path);
    if (file.size > MAX_THUMBNAIL_INPUT) throw tooLargeForThumbnail(path, file.size);
    const task = await this.tasks.get((await this.versions.getVersion(id)).taskId);
    const target = await this.accounts.open(task.targetAccountId);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    try {
      const jpeg = await makeThumbnail(
        () => target.read(file.storedPath, { signal: abort.signal }),
        q.size ?? 160,
        path,
      );
      res
        .status(200)
        .type('image/jpeg')
        .setHeader('Cache-Control', 'private, max-age=86400')
        .send(jpeg);
    } finally {
      await target.close?.().catch(() => undefined);
    }
  }
}
