import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ConnectorInfoView } from './dto/views.dto.js';
import { Public } from '../auth/auth.guard.js';
import { ConnectorRegistry } from '../connectors/connector.registry.js';

@ApiTags('system')
@Controller('api')
export class HealthController {
  constructor(private readonly registry: ConnectorRegistry) {}

  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Connector kinds with their option schemas, for the "add cloud" form. */
  @Get('connectors')
  @ApiOkResponse({ type: [ConnectorInfoView] })
  connectors() {
    return this.registry.list().map((d) => ({
      kind: d.kind,
      displayName: d.displayName,
      description: d.description,
      options: d.options,
      capabilities: d.capabilities,
      oauth: d.oauth !== undefined,
    }));
  }
}
