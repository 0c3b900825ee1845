import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';

export class StartConnectDto {
  @ApiProperty({ example: 'dropbox', description: 'A connector kind that connects through OAuth' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  kind!: string;

  @ApiPropertyOptional({
    example: 'My Dropbox',
    description: 'Name of the new account; optional when accountId is given',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    example: { clientId: 'abc123' },
    description: 'Connector options; clientId/clientSecret default to the server configuration',
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Re-authenticate this existing account instead' })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class AuthorizeQuery {
  @ApiPropertyOptional({ description: 'Name of the new account' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'Re-authenticate this existing account instead' })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class ICloudSignInDto {
  @ApiPropertyOptional({
    example: 'Family photos',
    description: 'Optional when accountId is given',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    example: 'me@icloud.com',
    description: 'Optional when accountId is given',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  appleId?: string;

  @ApiProperty({ description: 'Apple ID password; never returned nor logged' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ description: 'Other iCloud Photos options (see GET /api/connectors)' })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Sign this existing account in again' })
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional({
    default: true,
    description: 'Keep the password sealed in the vault so runs can sign in again without you',
  })
  @IsOptional()
  @IsBoolean()
  rememberPassword?: boolean;
}

export class ICloudCodeDto {
  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the 6-digit verification code' })
  code!: string;
}
