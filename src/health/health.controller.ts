import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AccountsService } from '../accounts/accounts.service.js';
import { CurrentUser, Public } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { HealthService } from './health.service.js';

const TARGET_TIMEOUT_MS = 10_000;

/**
 * Liveness (`/api/health/live`: the process answers) and readiness (`/api/health/ready`: it can
 * work: database, Redis, DATA_DIR), both public for probes; readiness answers 503 with the
 * failing check and its reason. `/api/health/accounts` checks the signed-in user's clouds on
 * demand (it calls each provider, so it is never a probe).
 */
@ApiTags('system')
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  @Public()
  @Get('live')
  @ApiOkResponse({ description: 'The process is up' })
  live() {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  @Public()
  @Get('ready')
  @ApiOkResponse({ description: 'Database (migrated), Redis in a cluster and DATA_DIR are fine' })
  @ApiServiceUnavailableResponse({ description: 'A check failed; `error` says which and why' })
  async ready(@Res({ passthrough: true }) res: Response) {
    try {
      return await this.health.readiness();
    } catch (e) {
      if (!(e instanceof ServiceUnavailableException)) throw e;
      res.status(503);
      return e.getResponse();
    }
  }

  /** Can each of the user's accounts be reached now? Lists the root of each, with a timeout. */
  @Get('accounts')
  async accounts(@CurrentUser() p: Principal) {
    // Resolved from the application (AccountsService lives in the app module, not this one).
    const accounts = this.moduleRef.get(AccountsService, { strict: false });
    const list = await accounts.list(p.user.id);
    const results = await Promise.all(
      list.map(async (a) => {
        const started = Date.now();
        const signal = AbortSignal.timeout(TARGET_TIMEOUT_MS);
        try {
          const connector = await accounts.open(a.id);
          try {
            const it = connector.list('', { signal })[Symbol.asyncIterator]();
            await Promise.race([
              it.next().finally(() => void it.return?.()),
              new Promise((_, reject) =>
                signal.addEventListener('abort', () =>
                  reject(new Error(`no answer in ${TARGET_TIMEOUT_MS / 1000} s`)),
                ),
              ),
            ]);
          } finally {
            await connector.close?.();
          }
          return { id: a.id, name: a.name, kind: a.kind, status: 'up', ms: Date.now() - started };
        } catch (e) {
          return {
            id: a.id,
            name: a.name,
            kind: a.kind,
            status: 'down',
            ms: Date.now() - started,
            error: e instanceof Error ? e.message : String(e),
          };
        }
      }),
    );
    return { status: results.every((r) => r.status === 'up') ? 'ok' : 'error', accounts: results };
  }
}
