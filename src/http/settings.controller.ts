import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard.js';
import { SmtpSettingsService } from '../notifications/smtp-settings.service.js';
import { SmtpSettingsDto, SmtpTestDto } from './dto/settings.dto.js';

@ApiTags('settings')
@Controller('api/settings')
@AdminOnly()
export class SettingsController {
  constructor(private readonly smtp: SmtpSettingsService) {}

  /** The SMTP server in use and where it comes from; the password is never returned. */
  @Get('smtp')
  getSmtp() {
    return this.smtp.view();
  }

  @Put('smtp')
  putSmtp(@Body() dto: SmtpSettingsDto) {
    return this.smtp.update(dto);
  }

  /** Sends a test message; 502 with the server's answer when it refuses. */
  @Post('smtp/test')
  @HttpCode(200)
  testSmtp(@Body() dto: SmtpTestDto) {
    return this.smtp.sendTest(dto.to);
  }
}
