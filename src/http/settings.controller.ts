import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SmtpTestView, SmtpView } from './dto/views.dto.js';
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
  @ApiOkResponse({ type: SmtpView })
  getSmtp() {
    return this.smtp.view();
  }

  @Put('smtp')
  @ApiOkResponse({ type: SmtpView })
  putSmtp(@Body() dto: SmtpSettingsDto) {
    return this.smtp.update(dto);
  }

  /** Sends a test message; 502 with the server's answer when it refuses. */
  @Post('smtp/test')
  @HttpCode(200)
  @ApiOkResponse({ type: SmtpTestView })
  testSmtp(@Body() dto: SmtpTestDto) {
    return this.smtp.sendTest(dto.to);
  }
}
