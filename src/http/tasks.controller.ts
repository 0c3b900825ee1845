import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RunView, TaskView, VersionView } from './dto/views.dto.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { RunsService } from '../runs/runs.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { VersionsService } from '../versions/versions.service.js';
import { AccessPolicy } from '../security/access-policy.js';
import { CreateTaskDto, UpdateTaskDto } from './dto/task.dto.js';
import { toRunView, toTaskDetailView, toTaskView, toVersionView } from './views.js';

@ApiTags('tasks')
@Controller('api/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly runs: RunsService,
    private readonly versions: VersionsService,
    private readonly scheduler: SchedulerService,
    private readonly owners: Ownership,
    private readonly access: AccessPolicy,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: TaskView })
  async create(@CurrentUser() p: Principal, @Body() dto: CreateTaskDto) {
    await this.owners.usableAccounts(p, {
      sourceAccountId: dto.sourceAccountId,
      targetAccountId: dto.targetAccountId,
    });
    await this.checkWebhook(p, dto.notifications?.webhookUrl);
    const task = await this.tasks.create(dto, p.user.id);
    return this.detail(task);
  }

  @Get()
  @ApiOkResponse({ type: [TaskView] })
  async list(@CurrentUser() p: Principal) {
    return (await this.tasks.list(p.user.id)).map(toTaskView);
  }

  @Get(':id')
  @ApiOkResponse({ type: TaskView })
  async get(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.task(p, id);
    const task = await this.tasks.get(id);
    return this.detail(task);
  }

  @Patch(':id')
  @ApiOkResponse({ type: TaskView })
  async update(@CurrentUser() p: Principal, @Param('id') id: string, @Body() dto: UpdateTaskDto) {
    await this.owners.task(p, id);
    await this.owners.usableAccounts(p, {
      sourceAccountId: dto.sourceAccountId,
      targetAccountId: dto.targetAccountId,
    });
    await this.checkWebhook(p, dto.notifications?.webhookUrl);
    const task = await this.tasks.update(id, dto);
    return this.detail(task);
  }

  private detail(task: TaskEntity) {
    return toTaskDetailView(
      task,
      this.scheduler.nextRuns(task),
      this.scheduler.nextVerifyRuns(task),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() p: Principal, @Param('id') id: string): Promise<void> {
    await this.owners.task(p, id);
    await this.tasks.remove(id);
  }

  /** "Run now": queues a backup run; 409 when one is already queued or running. */
  @Post(':id/run')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunView })
  async run(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.task(p, id);
    return toRunView(await this.runs.start('backup', id));
  }

  @Get(':id/versions')
  @ApiOkResponse({ type: [VersionView] })
  async versionsOf(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.task(p, id);
    return (await this.versions.listVersions(id)).map(toVersionView);
  }

  /** A webhook goes where its owner may send requests (the outbound address policy). */
  private async checkWebhook(p: Principal, url: string | null | undefined): Promise<void> {
    if (url) await this.access.checkWebhook(url.trim(), p.user.id, 'notifications.webhookUrl');
  }
}
