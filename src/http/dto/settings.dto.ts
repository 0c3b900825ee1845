import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import type { SmtpTlsMode } from '../../config/app-config.js';

export class SmtpSettingsDto {
  @ApiProperty({ example: 'smtp.example.com' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  host!: string;

  @ApiPropertyOptional({ example: 587, description: 'default: 465 for tls, else 587' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number;

  @ApiPropertyOptional({ enum: ['none', 'starttls', 'tls'], default: 'starttls' })
  @IsOptional()
  @IsIn(['none', 'starttls', 'tls'])
  tls?: SmtpTlsMode;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(255)
  user?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    description: 'Stored sealed, never returned; omit to keep the stored one, null to remove it',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(1000)
  password?: string | null;

  @ApiProperty({ example: 'Backups <backup@example.com>' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  from!: string;
}

export class SmtpTestDto {
  @ApiProperty({ example: ['me@example.com'] })
  @IsArray()
  @ArrayMaxSize(20, { message: 'to must hold at most 20 recipients' })
  @IsEmail({}, { each: true })
  to!: string[];
}

export class LocalRootsDto {
  @ApiProperty({
    example: ['/srv/backups/{user}', 'alice=/home/alice/backup'],
    description:
      'Folders non-admin users may use for local accounts; {user} is the username, name=/path one user only',
  })
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  roots!: string[];
}
