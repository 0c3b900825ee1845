import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PrunePreviewView, RunView, TaskRetentionView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { RetentionService } from '../version-requests/retention.service.js';
import { PrunePreviewQuery, RetentionDto } from './dto/restore.dto.js';
import { toRunView } from './views.js';

/** A task's retention policy, what it would delete, and a prune on request. */
@ApiTags('versions')
@Controller('api')
export class RetentionController {
  constructor(
    private readonly policies: RetentionService,
    private readonly owners: Ownership,
  ) {}

  @Put('tasks/:id/retention')
  @ApiOkResponse({ type: TaskRetentionView })
  async retention(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: RetentionDto) {
    await this.owners.task(p, id);
    return { retention: await this.policies.setRetention(id, dto) };
  }

  /**
   * What a retention policy (the query's, else the task's) would delete, deleting nothing:
   * versions, stored files and bytes freed.
   */
  @Get('tasks/:id/prune/preview')
  @ApiOkResponse({ type: PrunePreviewView })
  async prunePreview(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Query() q: PrunePreviewQuery,
  ) {
    await this.owners.task(p, id);
    const r = await this.policies.previewPrune(id, { ...q });
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
  @ApiAcceptedResponse({ type: RunView })
  async prune(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.task(p, id);
    return toRunView(await this.policies.startPrune(id));
  }
}
