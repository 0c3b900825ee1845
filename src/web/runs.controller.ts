import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RunsService } from '../backup/runs.service.js';
import { ListRunsQuery, RunEventsQuery } from './dto/query.dto.js';
import { toRunView } from './views.js';

@ApiTags('runs')
@Controller('api/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get()
  async list(@Query() q: ListRunsQuery) {
    return (await this.runs.list({ taskId: q.taskId, limit: q.limit ?? 50 })).map(toRunView);
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return toRunView(await this.runs.get(id));
  }

  /** The run's log: per-file errors and the faults it retried. */
  @Get(':id/events')
  events(@Param('id') id: string, @Query() q: RunEventsQuery) {
    return this.runs.events(id, {
      levels: q.level ? [q.level] : undefined,
      afterId: q.afterId,
      limit: q.limit ?? 200,
    });
  }

  @Post(':id/cancel')
  @HttpCode(202)
  async cancel(@Param('id') id: string) {
    return toRunView(await this.runs.cancel(id));
  }
}
