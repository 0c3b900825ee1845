import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
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
import type { ConflictPolicy } from '../../tasks/entities/run.entity.js';

export class RestoreDestinationDto {
  @ApiProperty({ description: 'Account to restore into' })
  @IsString()
  @IsNotEmpty()
  accountId!: string;

  @ApiPropertyOptional({ description: "Folder in that account ('' = its root)" })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  path?: string;
}

export class RestoreDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'Files or folders of the version; none = the whole version',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  paths?: string[];

  @ApiPropertyOptional({
    type: RestoreDestinationDto,
    description: 'Default: the original account and folder',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => RestoreDestinationDto)
  destination?: RestoreDestinationDto;

  @ApiPropertyOptional({
    enum: ['overwrite', 'skip-identical', 'keep-both'],
    default: 'skip-identical',
  })
  @IsOptional()
  @IsIn(['overwrite', 'skip-identical', 'keep-both'])
  conflict?: ConflictPolicy;
}

/**
 * A retention count (0-10000, optional): one definition for the policy a task stores and the one
 * a prune preview takes from the query string (where numbers arrive as text).
 */
function KeepCount(opts: { fromQuery?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: 0, maximum: 10000 }),
    IsOptional(),
    ...(opts.fromQuery ? [Type(() => Number)] : []),
    IsInt(),
    Min(0),
    Max(10000),
  );
}

export class RetentionDto {
  @KeepCount()
  keepLast?: number;

  @KeepCount()
  keepDaily?: number;

  @KeepCount()
  keepWeekly?: number;

  @KeepCount()
  keepMonthly?: number;
}

export class TreeQuery {
  @ApiPropertyOptional({ description: "Folder of the version ('' = its root)" })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  path?: string;
}

export class DiffQuery {
  @ApiProperty({ description: 'The other version to compare with' })
  @IsString()
  @IsNotEmpty()
  against!: string;
}

export class ImportLedgerDto {
  @ApiProperty({ description: 'Account that holds the backup (its manifests)' })
  @IsString()
  @IsNotEmpty()
  targetAccountId!: string;

  @ApiPropertyOptional({ description: 'Folder of the backup on that account' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  targetPath?: string;

  @ApiProperty({ description: 'Account the backup was taken from (where a restore goes back to)' })
  @IsString()
  @IsNotEmpty()
  sourceAccountId!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  sourcePath?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}

/** What a verify run reads back besides checking every stored copy by listing. */
export class VerifyDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    default: 0,
    description: 'Share of the stored copies read back and compared by SHA-256 (0-100).',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  readPercent?: number;
}

/** A retention policy given in the query string, for a prune preview; none: the task's own. */
export class PrunePreviewQuery {
  @KeepCount({ fromQuery: true })
  keepLast?: number;

  @KeepCount({ fromQuery: true })
  keepDaily?: number;

  @KeepCount({ fromQuery: true })
  keepWeekly?: number;

  @KeepCount({ fromQuery: true })
  keepMonthly?: number;
}
