import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SchedulePreviewView } from './dto/views.dto.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import { DST_RULE, MONTH_END_RULE, parseSchedule, toZonedIso } from '../scheduler/schedule.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { SchedulePreviewQuery } from './dto/schedule.dto.js';

@ApiTags('schedules')
@Controller('api/schedules')
export class SchedulesController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** The next runs of a draft schedule, for the task form; 400 naming the field when invalid. */
  @Get('preview')
  @ApiOkResponse({ type: SchedulePreviewView })
  preview(@Query() q: SchedulePreviewQuery) {
    const { schedule, problems } = parseSchedule({
      ...q,
      weekdays: q.weekdays
        ?.split(',')
        .map((d) => d.trim())
        .filter((d) => d !== ''),
    });
    if (!schedule) throw new ValidationAppError(problems);
    return {
      schedule,
      nextRuns: this.scheduler
        .preview(schedule, q.count ?? 5)
        .map((d) => toZonedIso(d, schedule.timezone)),
      rules: { monthEnd: MONTH_END_RULE, dst: DST_RULE },
    };
  }
}
