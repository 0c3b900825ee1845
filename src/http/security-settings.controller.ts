import { Body, Controller, Delete, Get, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard.js';
import { LocalRootsSettings } from '../security/local-roots.settings.js';
import { LocalRootsDto } from './dto/settings.dto.js';

/** The folders non-admin users may use for local accounts (LOCAL_ROOTS, set in the UI). */
@ApiTags('settings')
@Controller('api/settings/local-roots')
@AdminOnly()
export class SecuritySettingsController {
  constructor(private readonly roots: LocalRootsSettings) {}

  @Get()
  get() {
    return this.roots.view();
  }

  /** Replaces the configuration's LOCAL_ROOTS until reset. */
  @Put()
  put(@Body() dto: LocalRootsDto) {
    return this.roots.update(dto.roots);
  }

  /** Back to LOCAL_ROOTS from the environment. */
  @Delete()
  reset() {
    return this.roots.reset();
  }
}
