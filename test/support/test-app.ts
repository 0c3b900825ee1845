import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import type { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import type { TestDatabase } from './databases.js';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  config: AppConfig;
  dataDir: string;
  /** `http://127.0.0.1:<port>` when started with `listen` (browser tests). */
  baseUrl?: string;
  close(): Promise<void>;
}

/** Boots the real app on a temp data folder (SQLite unless a database is given). */
export async function startTestApp(
  opts: {
    db?: TestDatabase;
    registry?: ConnectorRegistry;
    env?: Record<string, string>;
    /** Listen on 127.0.0.1 at this port (0: any free one) instead of only initialising. */
    listen?: number;
  } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cbe-app-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    BACKUP_PARALLEL_RUNS: '2',
    ...opts.env,
  });
  if (opts.db) config.database = opts.db.config;
  const app = await createApp({ config, registry: opts.registry, logger: false });
  let baseUrl: string | undefined;
  if (opts.listen === undefined) await app.init();
  else {
    await app.listen(opts.listen, '127.0.0.1');
    const addr = (app.getHttpServer() as import('node:http').Server).address();
    baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : opts.listen}`;
  }
  return {
    app,
    http: request(app.getHttpServer()),
    config,
    dataDir,
    baseUrl,
    close: async () => {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RunView {
  id: string;
  status: string;
  filesTotal: number;
  filesCopied: number;
  filesUnchanged: number;
  filesFiltered: number;
  filesFailed: number;
  bytesCopied: number;
  bytesTotal: number;
  versionId: string | null;
  errorMessage: string | null;
  durationMs: number | null;
}

/** Polls a run until it leaves queued/running. */
export async function waitForRun(
  http: TestApp['http'],
  runId: string,
  timeoutMs = 120_000,
): Promise<RunView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await http.get(`/api/runs/${runId}`).expect(200);
    const run = res.body as RunView;
    if (run.status !== 'queued' && run.status !== 'running') return run;
    if (Date.now() > until)
      throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
