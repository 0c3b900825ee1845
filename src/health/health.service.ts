import { randomBytes } from 'node:crypto';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';

/** A Redis client's ping, injected so a single node never imports ioredis. */
export interface RedisProbe {
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 3_000;

/**
 * Readiness: can this engine do its work now? The database answers and has every migration
 * applied, Redis answers (cluster mode), and DATA_DIR takes a write and has free space. Each
 * check has a timeout, so a hung database makes readiness fail instead of hang.
 */
export class HealthService {
  constructor(
    private readonly checks: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly redis?: RedisProbe,
  ) {}

  /** Throws ServiceUnavailableException (503, with every check's result) when one is down. */
  readiness(): Promise<HealthCheckResult> {
    return this.checks.check([
      () => this.database(),
      () => this.dataDir(),
      ...(this.redis ? [() => this.redisCheck(this.redis!)] : []),
    ]);
  }

  private database(): PromiseLike<HealthIndicatorResult<'database'>> {
    return this.indicators
      .check('database')
      .attempt(async () => {
        if (!this.dataSource.isInitialized) throw new Error('not connected');
        await this.dataSource.query('SELECT 1');
        // true when a migration has not run yet: an engine on an older schema must not serve.
        if (await this.dataSource.showMigrations())
          throw new Error('migrations are pending: restart the engine to apply them');
        return { type: this.config.database.type };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  private dataDir(): PromiseLike<HealthIndicatorResult<'dataDir'>> {
    const dir = this.config.dataDir;
    const min = this.config.operations.minFreeBytes;
    return this.indicators
      .check('dataDir')
      .attempt(async () => {
        const probe = join(dir, `.health-${randomBytes(4).toString('hex')}`);
        try {
          await writeFile(probe, 'ok');
        } catch (e) {
          throw new Error(`${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? e})`, {
            cause: e,
          });
        }
        await unlink(probe).catch(() => undefined);
        const fs = await statfs(dir);
        const free = fs.bavail * fs.bsize;
        if (free < min)
          throw new Error(
            `${dir} has ${Math.floor(free / 2 ** 20)} MiB free, below HEALTH_MIN_FREE_MB (${Math.floor(min / 2 ** 20)})`,
          );
        return { freeBytes: free };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  private redisCheck(redis: RedisProbe): PromiseLike<HealthIndicatorResult<'redis'>> {
    return this.indicators
      .check('redis')
      .attempt(async () => {
        await redis.ping();
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}

/** An ioredis connection for the readiness ping (cluster mode only). */
export async function createRedisProbe(url: string): Promise<RedisProbe> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CHECK_TIMEOUT_MS,
  });
  client.on('error', () => undefined); // reported by the ping that fails
  return {
    ping: async () => {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.ping();
    },
    close: async () => {
      client.disconnect();
    },
  };
}
