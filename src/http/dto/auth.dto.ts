import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  username!: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({
    example: '/#/tasks',
    description: 'Where to go after signing in; only a path on this site is honoured',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

/** Length and characters are checked by the service, which names the field. */
export class NewUserDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MaxLength(64)
  username!: string;

  @ApiProperty({ description: '8 to 1024 characters' })
  @IsString()
  @MaxLength(1024)
  password!: string;
}

export class SetupDto extends NewUserDto {
  @ApiPropertyOptional({
    description:
      'Printed in the engine log at start; needed when the engine listens beyond loopback',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  setupToken?: string;
}

export class CreateUserDto extends NewUserDto {
  @ApiProperty({ enum: ['admin', 'user'] })
  @IsIn(['admin', 'user'])
  role!: 'admin' | 'user';
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MaxLength(1024)
  currentPassword!: string;

  @ApiProperty({ description: '8 to 1024 characters' })
  @IsString()
  @MaxLength(1024)
  newPassword!: string;
}

export class CreateTokenDto {
  @ApiProperty({ example: 'nightly script' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}
