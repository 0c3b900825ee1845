import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RunEventView, RunView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { RunsService } from '../runs/runs.service.js';
import { ListRunsQuery, RunEventsQuery } from './dto/query.dto.js';
import { toRunView } from './views.js';

@ApiTags('runs')
@Controller('api/runs')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly owners: Ownership,
  ) {}

  @Get()
  @ApiOkResponse({ type: [RunView] })
  async list(@CurrentUser() p: Principal, @Query() q: ListRunsQuery) {
    if (q.taskId) await this.owners.task(p, q.taskId);
    const ownerTaskIds = q.taskId ? undefined : await this.owners.taskIds(p);
    return (await this.runs.list({ taskId: q.taskId, ownerTaskIds, limit: q.limit ?? 50 })).map(
      toRunView,
    );
  }

  @Get(':id')
  @ApiOkResponse({ type: RunView })
  async get(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.run(p, id);
    return toRunView(await this.runs.get(id));
  }

  /** The run's log: per-file errors and the faults it retried. */
  @Get(':id/events')
  @ApiOkResponse({ type: [RunEventView] })
  async events(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: RunEventsQuery) {
    await this.owners.run(p, id);
    return this.runs.events(id, {
      levels: q.level ? [q.level] : undefined,
      afterId: q.afterId,
      limit: q.limit ?? 200,
    });
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOkResponse({ type: RunView })
  async cancel(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.run(p, id);
    return toRunView(await this.runs.cancel(id));
  }

  /** Holds a running run between files, whichever node executes it; 409 unless running. */
  @Post(':id/pause')
  @HttpCode(202)
  @ApiOkResponse({ type: RunView })
  async pause(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.run(p, id);
    return toRunView(await this.runs.pause(id));
  }

  /** Lets a paused run go on; 409 unless paused. */
  @Post(':id/resume')
  @HttpCode(202)
  @ApiOkResponse({ type: RunView })
  async resume(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.run(p, id);
    return toRunView(await this.runs.resume(id));
  }
}
