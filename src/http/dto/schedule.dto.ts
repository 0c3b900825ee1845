import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import type { NotifyOn } from '../../tasks/entities/task.entity.js';

/** Recipients of a task's notifications. */
export const MAX_RECIPIENTS = 20;

/** Shapes only; what the values mean (a real zone, a valid cron line) is checked by the service. */
export class ScheduleDto {
  @ApiProperty({ enum: ['none', 'daily', 'weekly', 'monthly', 'cron'] })
  @IsIn(['none', 'daily', 'weekly', 'monthly', 'cron'])
  kind!: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';

  @ApiPropertyOptional({
    example: '02:30',
    description: 'HH:MM local time (daily, weekly, monthly)',
  })
  @IsOptional()
  @IsString()
  time?: string;

  @ApiPropertyOptional({ example: ['mon', 'thu'], description: 'weekly: mon..sun' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  weekdays?: string[];

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 31,
    description: 'monthly; a day the month lacks runs on its last day',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31)
  dayOfMonth?: number;

  @ApiPropertyOptional({ example: '30 2 * * 1-5', description: 'cron: five fields' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cron?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  timezone?: string;
}

export class NotificationsDto {
  @ApiPropertyOptional({ example: ['me@example.com'] })
  @IsOptional()
  @IsArray()
  // Each run mails every recipient through the operator's SMTP server: a small list, not a list.
  @ArrayMaxSize(MAX_RECIPIENTS, {
    message: `emails must hold at most ${MAX_RECIPIENTS} recipients per task`,
  })
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  emails?: string[];

  @ApiPropertyOptional({ enum: ['failure', 'completion', 'always'] })
  @IsOptional()
  @IsIn(['failure', 'completion', 'always'])
  on?: NotifyOn;

  @ApiPropertyOptional({ nullable: true, example: 'https://hooks.example.com/backup' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(2000)
  webhookUrl?: string | null;
}

/** GET /api/schedules/preview: a draft schedule as query parameters (weekdays comma-separated). */
export class SchedulePreviewQuery {
  @ApiProperty({ enum: ['none', 'daily', 'weekly', 'monthly', 'cron'] })
  @IsIn(['none', 'daily', 'weekly', 'monthly', 'cron'])
  kind!: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';

  @ApiPropertyOptional({ example: '02:30' })
  @IsOptional()
  @IsString()
  time?: string;

  @ApiPropertyOptional({ example: 'mon,thu' })
  @IsOptional()
  @IsString()
  weekdays?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 31 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31)
  dayOfMonth?: number;

  @ApiPropertyOptional({ example: '30 2 * * 1-5' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cron?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  timezone?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  count?: number;
}
