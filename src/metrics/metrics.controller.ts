import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly } from '../auth/auth.guard.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus text at /api/metrics for an admin's API token (Prometheus: `authorization:
 * { credentials: cbe_... }`). METRICS_LISTEN serves the same text at /metrics on a separate
 * address instead (metrics-listener.ts), for a scraper that should hold no API token.
 */
@ApiTags('system')
@Controller('api/metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @AdminOnly()
  @Get()
  @ApiBearerAuth()
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', type: String })
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
