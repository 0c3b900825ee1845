import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import type { ConnectorRegistry } from '../../src/connectors/connector.registry.js';

/**
 * What the browser suites (test/e2e/web-ui-*.e2e-spec.ts) share: Debian's Chromium driven by
 * playwright-core (no browser download), screenshots under test-output/screenshots/, console
 * errors collected, and signing in through the UI.
 */

export const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
export const SHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The admin `startTestApp` creates. */
export const ADMIN = { username: 'admin', password: 'admin-password-1' };

/** The suites need the built app; `npm run build:web` makes it (pretest:e2e does too). */
export function ensureWebBuild(): void {
  if (!existsSync(join(ROOT, 'web', 'dist', 'index.html')))
    execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot as test-output/screenshots/<prefix>-<name>.png. */
  shot(name: string): Promise<void>;
  /** The control with this exact label inside the form `form` (a CSS selector). */
  field(form: string, label: string): Locator;
  /** The error text shown next to the field with this API path. */
  fieldError(name: string): Locator;
  /** A console error this step provokes on purpose (a 4xx the page shows) is no failure. */
  expectConsoleError(re: RegExp): void;
  /** Like `expectConsoleError`, for a step that may log the error any number of times. */
  allowConsoleErrors(re: RegExp): void;
  /** Console errors and uncaught exceptions on the app's pages, less the expected ones. */
  unexpectedConsoleErrors(): string[];
  close(): Promise<void>;
}

export async function openBrowser(
  base: string,
  opts: { shotPrefix: string; initScript?: string },
): Promise<BrowserSession> {
  await mkdir(SHOTS, { recursive: true });
  const profileDir = await mkdtemp(join(tmpdir(), 'cbe-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  if (opts.initScript) await page.addInitScript(opts.initScript);
  const consoleErrors: string[] = [];
  const expected: RegExp[] = [];
  const allowed: RegExp[] = [];
  // Our pages only: the emulators' consent pages are not the app (Chromium asks them for a
  // favicon they do not have).
  const ours = () => page.url().startsWith(base);
  page.on('console', (m) => {
    if (m.type() === 'error' && ours())
      consoleErrors.push(`${m.text()} (${m.location().url} on ${page.url()})`);
  });
  page.on('pageerror', (e) => {
    if (ours()) consoleErrors.push(`uncaught: ${e.message}`);
  });
  return {
    context,
    page,
    shot: async (name) => {
      await page.screenshot({
        path: join(SHOTS, `${opts.shotPrefix}-${name}.png`),
        fullPage: true,
      });
    },
    field: (form, label) => page.locator(form).getByLabel(label, { exact: true }),
    fieldError: (name) => page.locator(`[data-field="${name}"] > .field-error`),
    expectConsoleError: (re) => expected.push(re),
    allowConsoleErrors: (re) => allowed.push(re),
    unexpectedConsoleErrors: () => {
      const rest = consoleErrors.filter((e) => !allowed.some((re) => re.test(e)));
      for (const re of expected) {
        const i = rest.findIndex((e) => re.test(e));
        if (i >= 0) rest.splice(i, 1);
      }
      return rest;
    },
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

/** The text of an element once it shows (an answer from the server may still be on its way). */
export async function shownText(locator: Locator): Promise<string> {
  await locator.waitFor({ state: 'visible' });
  return (await locator.textContent()) ?? '';
}

/**
 * Signs in through the sign-in screen. Opens `route` first (signed out, the app shows the sign-in
 * screen and keeps the route as `next`) and checks the app goes back there afterwards.
 */
export async function signInThroughUi(
  b: BrowserSession,
  base: string,
  user: { username: string; password: string },
  route = '/accounts',
): Promise<void> {
  const { page } = b;
  await page.goto(`${base}/#${route}`);
  await page.waitForURL((u) => u.hash.startsWith('#/sign-in'));
  expect(new URL(page.url()).hash).toBe(`#/sign-in?next=${encodeURIComponent(route)}`);
  const form = 'form[aria-label="Sign in"]';
  await b.field(form, 'Username *').fill(user.username);
  await b.field(form, 'Password *').fill(user.password);
  await page.locator(form).getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.hash === `#${route}`);
  await page.locator('#account [data-username]').waitFor();
  expect(await page.locator('#account [data-username]').textContent()).toBe(user.username);
}

export async function signOutThroughUi(b: BrowserSession): Promise<void> {
  await b.page.locator('#account').getByRole('button', { name: 'Sign out' }).click();
  await b.page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** A supertest agent signed in with a cookie, sending the CSRF token with every change. */
export interface SignedInAgent {
  get(path: string): request.Test;
  post(path: string, body?: object): request.Test;
  put(path: string, body?: object): request.Test;
  patch(path: string, body?: object): request.Test;
  delete(path: string): request.Test;
}

export async function signInAgent(
  server: Server,
  user: { username: string; password: string },
): Promise<SignedInAgent> {
  const agent = request.agent(server);
  const res = await agent.post('/api/auth/login').send(user).expect(200);
  const csrf = (res.body as { csrfToken: string }).csrfToken;
  const withBody = (t: request.Test, body?: object) =>
    body === undefined ? t.set('X-CSRF-Token', csrf) : t.set('X-CSRF-Token', csrf).send(body);
  return {
    get: (path) => agent.get(path),
    post: (path, body) => withBody(agent.post(path), body),
    put: (path, body) => withBody(agent.put(path), body),
    patch: (path, body) => withBody(agent.patch(path), body),
    delete: (path) => withBody(agent.delete(path)),
  };
}

/**
 * The app on a fresh data folder with no user at all, listening on 127.0.0.1: what a first
 * start looks like (`startTestApp` always creates the admin).
 */
export async function startAppWithoutUsers(
  opts: { registry?: ConnectorRegistry; env?: Record<string, string> } = {},
): Promise<{ app: INestApplication; server: Server; baseUrl: string; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cbe-app-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    BACKUP_PARALLEL_RUNS: '2',
    ...opts.env,
  });
  const app = await createApp({ config, registry: opts.registry, logger: false });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    app,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
