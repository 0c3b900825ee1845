import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { FilterMode } from '../../backup/entities/task.entity.js';
import { NotificationsDto, ScheduleDto } from './schedule.dto.js';

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
}

/** Every field of a task, each optional: only what is sent changes. */
export class UpdateTaskDto extends PartialType(CreateTaskDto) {}
