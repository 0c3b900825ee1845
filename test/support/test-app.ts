import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import type { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import type { TestDatabase } from './databases.js';

export const TEST_ADMIN = { username: 'admin', password: 'admin-password-1' };

export type Http = TestAgent;

export interface TestApp {
  app: INestApplication;
  /** Signed in as TEST_ADMIN (session cookie + CSRF header on every request). */
  http: Http;
  /** Not signed in. */
  anon: ReturnType<typeof request>;
  /** `cbe_session=...` of `http`, for requests that must set their own Cookie header. */
  sessionCookie: string;
  /** `cbe_session=...` of the latest `signIn`. */
  lastSessionCookie(): string;
  /** A new agent signed in as another user (create them first through `http`). */
  signIn(username: string, password: string): Promise<Http>;
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
    /** Where the app's log goes (default: nowhere). */
    logger?: import('@nestjs/common').LoggerService;
  } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cbe-app-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    BACKUP_PARALLEL_RUNS: '2',
    ADMIN_USERNAME: TEST_ADMIN.username,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    ...opts.env,
  });
  if (opts.db) config.database = opts.db.config;
  const app = await createApp({ config, registry: opts.registry, logger: opts.logger ?? false });
  let baseUrl: string | undefined;
  if (opts.listen === undefined) await app.init();
  else {
    await app.listen(opts.listen, '127.0.0.1');
    const addr = (app.getHttpServer() as import('node:http').Server).address();
    baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : opts.listen}`;
  }
  const server = app.getHttpServer() as import('node:http').Server;
  let sessionCookie = '';
  const signIn = async (username: string, password: string): Promise<Http> => {
    const agent = request.agent(server);
    const res = await agent.post('/api/auth/login').send({ username, password });
    if (res.status !== 200) {
      throw new Error(`sign-in as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    agent.set('X-CSRF-Token', (res.body as { csrfToken: string }).csrfToken);
    const cookies = res.headers['set-cookie'] as unknown as string[];
    sessionCookie = cookies.find((c) => c.startsWith('cbe_session='))!.split(';')[0]!;
    // Sent explicitly too: with an https PUBLIC_URL the cookie is Secure, and the agent's jar
    // would keep it off plain-http test requests (superagent merges this with the jar).
    agent.set('Cookie', sessionCookie);
    return agent;
  };
  const http = config.auth.adminUsername
    ? await signIn(config.auth.adminUsername, config.auth.adminPassword!)
    : request.agent(server);
  const adminCookie = sessionCookie;
  return {
    app,
    http,
    anon: request(server),
    sessionCookie: adminCookie,
    lastSessionCookie: () => sessionCookie,
    signIn,
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
  bytesUnchanged: number;
  versionId: string | null;
  errorMessage: string | null;
  durationMs: number | null;
}

/** Polls a run until it leaves queued/running. */
export async function waitForRun(
  http: Http | ReturnType<typeof request>,
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
