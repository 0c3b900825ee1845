import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiTags } from '@nestjs/swagger';
import { RunView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { VerifyService } from '../version-requests/verify.service.js';
import { VersionsService } from '../versions/versions.service.js';
import { VerifyDto } from './dto/restore.dto.js';
import { toRunView } from './views.js';

/** Verify runs on request: a version, every version of a task, everything on a target account. */
@ApiTags('versions')
@Controller('api')
export class VerifyController {
  constructor(
    private readonly verify: VerifyService,
    private readonly versions: VersionsService,
    private readonly owners: Ownership,
  ) {}

  /** Verifies one version: every stored copy listed (exists, size), `readPercent` read back. */
  @Post('versions/:id/verify')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunView })
  async verifyVersion(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Body() dto: VerifyDto,
  ) {
    await this.owners.version(p, id);
    const v = await this.versions.getVersion(id);
    return toRunView(await this.verify.startVerify(v.taskId, { versionId: id, ...dto }));
  }

  /** Verifies every version of a task. */
  @Post('tasks/:id/verify')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunView })
  async verifyTask(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: VerifyDto) {
    await this.owners.task(p, id);
    return toRunView(await this.verify.startVerify(id, dto));
  }

  /** Verifies everything on a target account: one verify run per task stored there. */
  @Post('accounts/:id/verify')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: [RunView] })
  async verifyTarget(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: VerifyDto) {
    await this.owners.account(p, id);
    const runs = await this.verify.startVerifyTarget(id, p.user.id, dto.readPercent);
    return runs.map(toRunView);
  }
}
