import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { FilterMode } from '../../tasks/entities/task.entity.js';
import { NotificationsDto, ScheduleDto } from './schedule.dto.js';

/** The deletion guard of a task: on by default; only `enabled: false` turns it off. */
export class DeletionGuardDto {
  @ApiPropertyOptional({ default: true, description: 'false turns the guard off for this task' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    default: 50,
    description: 'hold a version when more than this percent of the files went away...',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  percent?: number;

  @ApiPropertyOptional({ minimum: 0, default: 20, description: '...and more than this many files' })
  @IsOptional()
  @IsInt()
  @Min(0)
  minFiles?: number;

  @ApiPropertyOptional({ default: true, description: 'count changed files with the deleted ones' })
  @IsOptional()
  @IsBoolean()
  countChanged?: boolean;

  @ApiPropertyOptional({
    default: true,
    description: 'hold when the source lists nothing where it held files',
  })
  @IsOptional()
  @IsBoolean()
  holdWhenEmptied?: boolean;
}

/** Verify runs of a task. */
export class VerifySettingsDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    default: 0,
    description: 'percent of the stored copies read back and compared by SHA-256',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  readPercent?: number;

  @ApiPropertyOptional({
    default: false,
    description:
      'read every file back after writing it and compare its SHA-256, on targets that report no hash (local, WebDAV, SFTP)',
  })
  @IsOptional()
  @IsBoolean()
  readBackAfterWrite?: boolean;

  @ApiPropertyOptional({
    type: ScheduleDto,
    nullable: true,
    description: 'when verify runs start on their own',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;
}

export class FilterDto {
  @ApiProperty({ enum: ['all', 'include', 'exclude'] })
  @IsIn(['all', 'include', 'exclude'])
  mode!: FilterMode;

  @ApiPropertyOptional({
    description:
      'Extensions, case-insensitive: a list or one comma-separated string ("jpg, heic, mov")',
    oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }],
  })
  @IsOptional()
  @IsString({
    each: true,
    message: 'extensions must be a list of strings or one comma-separated string',
  })
  extensions?: string[] | string;
}

export class CreateTaskDto {
  @ApiProperty({ example: 'Photos to the NAS' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  sourceAccountId!: string;

  @ApiPropertyOptional({
    example: 'Photos',
    description: "Folder in the source account ('' = its root)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  sourcePath?: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  targetAccountId!: string;

  @ApiPropertyOptional({ example: 'Backups/Photos' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  targetPath?: string;

  @ApiPropertyOptional({ type: FilterDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FilterDto)
  filter?: FilterDto;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 32,
    description: 'Files transferred at the same time',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32)
  concurrency?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    description: 'true: no scheduled runs (the same switch as enabled=false)',
  })
  @IsOptional()
  @IsBoolean()
  paused?: boolean;

  @ApiPropertyOptional({ type: ScheduleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto;

  @ApiPropertyOptional({ description: 'After downtime, run a missed slot once at start-up' })
  @IsOptional()
  @IsBoolean()
  catchUp?: boolean;

  @ApiPropertyOptional({ type: NotificationsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => NotificationsDto)
  notifications?: NotificationsDto;

  @ApiPropertyOptional({
    type: DeletionGuardDto,
    nullable: true,
    description: 'null puts the defaults back',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeletionGuardDto)
  deletionGuard?: DeletionGuardDto | null;

  @ApiPropertyOptional({ type: VerifySettingsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => VerifySettingsDto)
  verify?: VerifySettingsDto;
}

/** Every field of a task, each optional: only what is sent changes. */
export class UpdateTaskDto extends PartialType(CreateTaskDto) {}
