import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AccountView, EntryView } from './dto/views.dto.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { CurrentUser } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { TasksService } from '../tasks/tasks.service.js';
import { BrowseQuery } from './dto/query.dto.js';
import { CreateAccountDto, UpdateAccountDto } from './dto/account.dto.js';

@ApiTags('accounts')
@Controller('api/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly tasks: TasksService,
    private readonly owners: Ownership,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: AccountView })
  create(@CurrentUser() p: Principal, @Body() dto: CreateAccountDto) {
    return this.accounts.create({ ...dto, ownerId: p.user.id });
  }

  @Get()
  @ApiOkResponse({ type: [AccountView] })
  list(@CurrentUser() p: Principal) {
    return this.accounts.list(p.user.id);
  }

  @Get(':id')
  @ApiOkResponse({ type: AccountView })
  async get(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.account(p, id);
    return this.accounts.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: AccountView })
  async update(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateAccountDto,
  ) {
    await this.owners.account(p, id);
    return this.accounts.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() p: Principal, @Param('id') id: string): Promise<void> {
    await this.owners.account(p, id);
    await this.accounts.remove(id, this.tasks);
  }

  /** Lists one folder of the account (folder pickers). */
  @Get(':id/browse')
  @ApiOkResponse({ type: [EntryView] })
  async browse(@CurrentUser() p: Principal, @Param('id') id: string, @Query() q: BrowseQuery) {
    await this.owners.account(p, id);
    const entries = await this.accounts.browse(id, q.path ?? '');
    return entries.map((e) => ({
      path: e.path,
      name: e.name,
      kind: e.kind,
      size: e.size,
      modifiedAt: e.modifiedAt,
    }));
  }
}
