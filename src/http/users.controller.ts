import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreatedTokenView, TokenView, UserView } from './dto/views.dto.js';
import { AdminOnly, CurrentUser } from '../auth/auth.guard.js';
import { AuthService, type Principal } from '../auth/auth.service.js';
import { CreateTokenDto, CreateUserDto } from './dto/auth.dto.js';

@ApiTags('auth')
@Controller('api/users')
@AdminOnly()
export class UsersController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOkResponse({ type: [UserView] })
  list() {
    return this.auth.listUsers();
  }

  @Post()
  @ApiCreatedResponse({ type: UserView })
  create(@Body() dto: CreateUserDto) {
    return this.auth.createUser(dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() p: Principal, @Param('id') id: string): Promise<void> {
    await this.auth.deleteUser(p.user, id);
  }
}

/** API tokens for scripts: `Authorization: Bearer <token>`; the token is shown once. */
@ApiTags('auth')
@Controller('api/tokens')
export class TokensController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOkResponse({ type: [TokenView] })
  list(@CurrentUser() p: Principal) {
    return this.auth.listTokens(p.user.id);
  }

  @Post()
  @ApiCreatedResponse({ type: CreatedTokenView })
  create(@CurrentUser() p: Principal, @Body() dto: CreateTokenDto) {
    return this.auth.createToken(p.user.id, dto.name);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() p: Principal, @Param('id') id: string): Promise<void> {
    await this.auth.deleteToken(p.user.id, id);
  }
}
