import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateAccountDto {
  @ApiProperty({
    example: 'local',
    description: 'Connector kind, as listed by GET /api/connectors',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  kind!: string;

  @ApiProperty({ example: 'External drive' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    example: { root: '/mnt/backup' },
    description: 'Connector options (see GET /api/connectors)',
  })
  @IsObject()
  options!: Record<string, unknown>;
}

export class UpdateAccountDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    description: 'Options to change; secrets left empty keep their stored value',
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}
