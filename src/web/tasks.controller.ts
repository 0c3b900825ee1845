import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RunsService } from '../backup/runs.service.js';
import { TasksService } from '../backup/tasks.service.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { VersionsService } from '../versions/versions.service.js';
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
  ) {}

  @Post()
  async create(@Body() dto: CreateTaskDto) {
    const task = await this.tasks.create(dto);
    await this.scheduler.taskChanged(task.id, task);
    return toTaskDetailView(task, this.scheduler.nextRuns(task));
  }

  @Get()
  async list() {
    return (await this.tasks.list()).map(toTaskView);
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const task = await this.tasks.get(id);
    return toTaskDetailView(task, this.scheduler.nextRuns(task));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() dto: UpdateTaskDto) {
    const task = await this.tasks.update(id, dto);
    await this.scheduler.taskChanged(task.id, task);
    return toTaskDetailView(task, this.scheduler.nextRuns(task));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.tasks.remove(id);
    await this.scheduler.taskChanged(id, undefined);
  }

  /** "Run now": queues a backup run; 409 when one is already queued or running. */
  @Post(':id/run')
  @HttpCode(202)
  async run(@Param('id') id: string) {
    return toRunView(await this.runs.startBackup(id, 'manual'));
  }

  @Get(':id/versions')
  async versionsOf(@Param('id') id: string) {
    await this.tasks.get(id);
    return (await this.versions.listVersions(id)).map(toVersionView);
  }
}
