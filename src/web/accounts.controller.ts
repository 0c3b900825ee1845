import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AccountsService } from '../accounts/accounts.service.js';
import { TasksService } from '../backup/tasks.service.js';
import { BrowseQuery } from './dto/query.dto.js';
import { CreateAccountDto, UpdateAccountDto } from './dto/account.dto.js';

@ApiTags('accounts')
@Controller('api/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly tasks: TasksService,
  ) {}

  @Post()
  create(@Body() dto: CreateAccountDto) {
    return this.accounts.create(dto);
  }

  @Get()
  list() {
    return this.accounts.list();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.accounts.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateAccountDto) {
    return this.accounts.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.accounts.remove(id, this.tasks);
  }

  /** Lists one folder of the account (folder pickers). */
  @Get(':id/browse')
  async browse(@Param('id') id: string, @Query() q: BrowseQuery) {
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
