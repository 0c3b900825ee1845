import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DashboardView, RunView } from './dto/views.dto.js';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, Min } from 'class-validator';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { TaskHealthService } from '../tasks/task-health.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import { toRunView, toTaskView } from './views.js';

const KINDS = ['backup', 'restore', 'prune', 'verify'] as const;
const STATUSES = [
  'queued',
  'running',
  'completed',
  'warning',
  'failed',
  'offline',
  'cancelled',
  'skipped',
] as const;

export class RunSearchQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  taskId?: string;

  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS, { message: `kind must be one of ${KINDS.join(', ')}` })
  kind?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES, { message: `status must be one of ${STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ description: 'Runs created at or after this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be a date such as 2026-12-01' })
  from?: string;

  @ApiPropertyOptional({ description: 'Runs created before this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be a date such as 2026-12-01' })
  to?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** The home page's answers: every task's health at a glance, and the runs list's filters. */
@ApiTags('dashboard')
@Controller('api/dashboard')
export class DashboardController {
  constructor(
    private readonly health: TaskHealthService,
    private readonly tasks: TasksService,
    private readonly owners: Ownership,
  ) {}

  @Get()
  @ApiOkResponse({ type: DashboardView })
  async overview(@CurrentUser() p: Principal) {
    const tasks = await this.tasks.list(p.user.id);
    const o = await this.health.overview(tasks);
    return {
      tasks: o.tasks.map((h) => ({
        ...h,
        task: toTaskView(h.task),
        lastBackup: h.lastBackup ? toRunView(h.lastBackup) : null,
        lastVerify: h.lastVerify ? toRunView(h.lastVerify) : null,
      })),
      targets: o.targets,
    };
  }

  @Get('runs')
  @ApiOkResponse({ type: [RunView] })
  async runs(@CurrentUser() p: Principal, @Query() q: RunSearchQuery) {
    if (q.taskId) await this.owners.task(p, q.taskId);
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to) throw new ValidationAppError(['to must be after from']);
    const runs = await this.health.search({
      taskIds: q.taskId ? [q.taskId] : await this.owners.taskIds(p),
      kinds: q.kind ? [q.kind] : undefined,
      statuses: q.status ? [q.status] : undefined,
      from,
      to,
      limit: q.limit ?? 100,
    });
    return runs.map(toRunView);
  }
}
