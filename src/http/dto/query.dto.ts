import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListRunsQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  taskId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class RunEventsQuery {
  @ApiPropertyOptional({ enum: ['error', 'retry', 'warning', 'info'] })
  @IsOptional()
  @IsIn(['error', 'retry', 'warning', 'info'])
  level?: 'error' | 'retry' | 'warning' | 'info';

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  afterId?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class VersionFilesQuery {
  @ApiPropertyOptional({ description: 'Only files under this folder of the version' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  prefix?: string;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  afterId?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 5000, default: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export class BrowseQuery {
  @ApiPropertyOptional({ description: "Folder to list ('' = the account's root)" })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  path?: string;
}

export class ThumbnailQuery {
  @ApiProperty({ description: 'The file in the version, e.g. "2024/IMG_0001.jpg"' })
  @IsString()
  @MaxLength(4096)
  path!: string;

  @ApiPropertyOptional({ minimum: 16, maximum: 512, default: 160, description: 'Longest side' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  @Max(512)
  size?: number;
}
