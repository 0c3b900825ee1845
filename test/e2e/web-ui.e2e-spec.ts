import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../emulators/dropbox/dropbox-emulator.js';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import { FaultyConnector } from '../support/faulty-connector.js';
import { freeLoopbackPort } from '../servers/free-port.js';
import { startICloudPhotos, type ICloudPhotosCloud } from '../support/cloud-fixtures.js';
import { patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The browser app, driven in Debian's Chromium (playwright-core, no browser download): clouds,
 * a task with a filter, a run followed live to 100 %, a restore from the versions page, the
 * iCloud code prompt and an OAuth consent flow against the emulators. Screenshots of every
 * screen go to test-output/screenshots/; any console error fails the suite.
 */

const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The source tree: 18 photos and videos the filter keeps, 4 documents it leaves out. */
const SOURCE: Record<string, Buffer> = {};
for (let i = 1; i <= 12; i++)
  SOURCE[`Pictures/2024/IMG_${String(i).padStart(4, '0')}.jpg`] = patternBytes(150_000 + i, i);
for (let i = 1; i <= 4; i++)
  SOURCE[`Pictures/2025/IMG_${String(100 + i).padStart(4, '0')}.JPG`] = patternBytes(
    90_000,
    100 + i,
  );
SOURCE['Pictures/2025/clip-1.mov'] = patternBytes(400_000, 201);
SOURCE['Pictures/clip-2.mov'] = patternBytes(300_000, 202);
for (let i = 1; i <= 4; i++) SOURCE[`Pictures/notes-${i}.txt`] = Buffer.from(`note ${i}\n`);
SOURCE['Documents/letter.jpg'] = patternBytes(1000, 300); // outside the chosen source folder
const KEPT = Object.keys(SOURCE).filter(
  (p) => p.startsWith('Pictures/') && /\.(jpg|mov)$/i.test(p),
);

/** In the page: the run page's progress bar shows a completed run. */
const RUN_COMPLETED =
  "document.querySelector('[role=progressbar]')?.getAttribute('data-status') === 'completed'";

async function filesUnder(root: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  const walk = async (dir: string, prefix: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
      else out[`${prefix}${e.name}`] = await readFile(join(dir, e.name));
    }
  };
  await walk(root, '');
  return out;
}

/** Reads of local files take this long while set, so a run lasts past a progress flush (1 s). */
let slowReadMs = 0;
const registry = new ConnectorRegistry(
  CONNECTOR_DESCRIPTORS.map((d) =>
    d.kind !== 'local'
      ? d
      : {
          ...d,
          create: (settings, ctx) =>
            new FaultyConnector(d.create(settings, ctx), (op) =>
              op === 'read' && slowReadMs > 0 ? { delayMs: slowReadMs } : undefined,
            ),
        },
  ),
);

describe('web UI in a browser', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let srcRoot: string;
  let dstRoot: string;
  let dropbox: DropboxEmulator;
  let icloud: ICloudPhotosCloud;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const consoleErrors: string[] = [];
  /** Console errors a step provokes on purpose (a 400 the form shows), taken off the list. */
  const expectedErrors: RegExp[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const field = (form: string, label: string) =>
    page.locator(form).getByLabel(label, { exact: true });
  /** The error text shown next to the field with this API path. */
  const fieldError = (name: string) => page.locator(`[data-field="${name}"] > .field-error`);

  async function api<T>(path: string): Promise<T> {
    const res = await t.http.get(path).expect(200);
    return res.body as T;
  }

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
      execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    }
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'cbe-web-'));
    srcRoot = join(dir, 'source');
    dstRoot = join(dir, 'usb');
    await writeTree(srcRoot, SOURCE);
    await mkdir(dstRoot, { recursive: true });
    dropbox = await startDropboxEmulator();
    icloud = await startICloudPhotos();
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      listen: port,
      registry,
      env: {
        PUBLIC_URL: base,
        DROPBOX_APP_KEY: dropbox.credentials.clientId,
        DROPBOX_APP_SECRET: dropbox.credentials.clientSecret,
      },
    });
    profileDir = await mkdtemp(join(tmpdir(), 'cbe-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
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
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    // Every value the progress bar shows, as the page draws it.
    // (Browser code is passed as text: the test's TypeScript has no DOM types.)
    await page.addInitScript(`{
      const seen = [];
      window.progressSeen = seen;
      new MutationObserver((records) => {
        for (const r of records) {
          const v = r.target.getAttribute('aria-valuenow');
          if (v !== null && seen.at(-1) !== v) seen.push(v);
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    }`);
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
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await t?.close();
    await dropbox?.stop();
    await icloud?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('should serve the app at / and send the API its own JSON answers', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toMatch(
      /<script type="module"[^>]+src="\/assets\/index-[\w-]+\.js"/,
    );
    const deep = await fetch(`${base}/some/reloaded/path`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toMatch(/^text\/html/);
    const missing = await fetch(`${base}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { statusCode: number }).statusCode).toBe(404);
  });

  it('should add two local accounts and show each problem next to its field', async () => {
    await page.goto(`${base}/#/accounts`);
    await page.getByRole('heading', { name: 'Clouds' }).waitFor();
    await page.getByLabel('Kind of cloud').selectOption('local');
    const form = 'form[aria-label^="Add "]';
    await page.locator(form).getByRole('button', { name: 'Add account' }).click();
    // Checked before sending: the name and the folder are required.
    await expect(fieldError('name').textContent()).resolves.toBe('name must not be empty');
    await expect(fieldError('options.root').textContent()).resolves.toMatch(
      /^options\.root is required/,
    );
    expect(await field(form, 'Name *').getAttribute('aria-invalid')).toBe('true');
    await shot('accounts-add-problems');

    await field(form, 'Name *').fill('Photos');
    await field(form, 'Folder *').fill(srcRoot);
    await page.locator(form).getByRole('button', { name: 'Add account' }).click();
    await page.getByRole('status').filter({ hasText: 'Added “Photos”.' }).waitFor();
    await field(form, 'Name *').fill('USB drive');
    await field(form, 'Folder *').fill(dstRoot);
    await page.locator(form).getByRole('button', { name: 'Add account' }).click();
    await page.locator('li.card h3', { hasText: 'USB drive' }).waitFor();
    const accounts =
      await api<{ name: string; kind: string; state: string; options: { root: string } }[]>(
        '/api/accounts',
      );
    expect(accounts.map((a) => [a.name, a.kind, a.state, a.options.root]).sort()).toEqual([
      ['Photos', 'local', 'connected', srcRoot],
      ['USB drive', 'local', 'connected', dstRoot],
    ]);
    await expect(page.locator('li.card .badge').allTextContents()).resolves.toEqual([
      'Connected',
      'Connected',
    ]);
    await shot('accounts');
  });

  let taskId: string;

  it('should create a task with a filter through the folder picker, showing the server’s problem', async () => {
    await page.goto(`${base}/#/tasks`);
    await page.getByRole('link', { name: 'New backup task' }).click();
    await page.getByRole('heading', { name: 'New backup task' }).waitFor();
    const form = 'form.task-form';
    await field(form, 'Name *').fill('Pictures');
    await field(form, 'Back up from *').selectOption({ label: 'Photos' });
    // Browse the source account: its top folder lists Documents and Pictures.
    const sourceField = page.locator('[data-field="sourcePath"]');
    await sourceField.getByRole('button', { name: 'Browse…' }).click();
    await sourceField.getByRole('button', { name: 'Documents', exact: true }).waitFor();
    await sourceField.getByRole('button', { name: 'Pictures', exact: true }).click();
    await sourceField.getByRole('button', { name: '2024', exact: true }).waitFor();
    await expect(sourceField.locator('.browser').textContent()).resolves.toContain(
      '5 file(s) here.',
    );
    await shot('task-folder-picker');
    await sourceField.getByRole('button', { name: 'Use this folder' }).click();
    expect(await field(form, 'Source folder').inputValue()).toBe('Pictures');
    await field(form, 'Store the backup in *').selectOption({ label: 'USB drive' });
    await field(form, 'Target folder').fill('Backups/Pictures');
    await page.getByLabel('Only these extensions').check();
    await field(form, 'Extensions').fill('j/pg, mov');
    await field(form, 'Files at the same time').fill('2');
    await field(form, 'Keep the last … versions').fill('5');
    // The server refuses the extension: its problem lands next to the extensions field.
    expectedErrors.push(/status of 400/);
    const refused = page.waitForResponse(
      (r) => r.url().endsWith('/api/tasks') && r.status() === 400,
    );
    await page.getByRole('button', { name: 'Create task' }).click();
    await refused;
    await expect(fieldError('filter.extensions').textContent()).resolves.toMatch(
      /^filter\.extensions.*'j\/pg' is not a file extension/,
    );
    await shot('task-form-server-problem');
    await field(form, 'Extensions').fill('jpg, mov');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('heading', { name: 'Backup tasks' }).waitFor();
    const tasks = await api<
      {
        id: string;
        sourcePath: string;
        targetPath: string;
        filter: unknown;
        concurrency: number;
        retention: unknown;
      }[]
    >('/api/tasks');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      sourcePath: 'Pictures',
      targetPath: 'Backups/Pictures',
      filter: { mode: 'include', extensions: ['jpg', 'mov'] },
      concurrency: 2,
      retention: { keepLast: 5 },
    });
    taskId = tasks[0]!.id;
    await expect(page.locator(`[data-task="${taskId}"]`).textContent()).resolves.toContain(
      'Only .jpg, .mov',
    );
    await shot('tasks');
  });

  it('should run the task and follow its progress bar live to 100 %', async () => {
    slowReadMs = 200; // 18 files, 2 at a time: about 2 s, so progress arrives mid-run
    const stream = page.waitForRequest((r) => /\/api\/runs\/[0-9a-f-]+\/stream$/.test(r.url()));
    await page.locator(`[data-task="${taskId}"]`).getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    const runId = /#\/runs\/(.+)$/.exec(page.url())![1]!;
    const bar = page.getByRole('progressbar', { name: 'Progress' });
    await page.waitForFunction(RUN_COMPLETED);
    slowReadMs = 0;
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    // Drawn live from the stream: at least one value between 0 and 100 before the end.
    const seen = (await page.evaluate<string[]>('window.progressSeen')).map(Number);
    expect(seen.at(-1)).toBe(100);
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    const text = await page.locator('.progress-text').textContent();
    expect(text).toContain(`100% · ${KEPT.length} of ${KEPT.length} files`);
    expect((await stream).url()).toBe(`${base}/api/runs/${runId}/stream`);
    await expect(page.locator('[data-count="copied"]').textContent()).resolves.toBe(
      String(KEPT.length),
    );
    await expect(page.locator('[data-count="filtered"]').textContent()).resolves.toBe('4');
    await page.locator('ol.log li').first().waitFor();
    await shot('run-completed');

    const run = await api<{ status: string; filesCopied: number; versionId: string }>(
      `/api/runs/${runId}`,
    );
    expect(run).toMatchObject({ status: 'completed', filesCopied: KEPT.length });
    // What the target holds: the photos and videos, bytes unchanged, no documents.
    const target = join(dstRoot, 'Backups', 'Pictures');
    const [versionDir] = (await readdir(target)).filter((n) => n.startsWith('v000001_'));
    const stored = await filesUnder(join(target, versionDir!));
    expect(Object.keys(stored).sort()).toEqual(KEPT.map((p) => p.slice('Pictures/'.length)).sort());
    for (const p of KEPT)
      expect(sha256(stored[p.slice('Pictures/'.length)]!)).toBe(sha256(SOURCE[p]!));
  });

  it('should stream a run as server-sent events, the run first and its end last', async () => {
    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const res = await fetch(`${base}/api/runs/${started.body.id as string}/stream`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await res.text(); // the server ends the stream after the last event
    const events = body
      .split('\n\n')
      .filter((b) => b.includes('data:'))
      .map((b) => ({
        type: /^event: (.+)$/m.exec(b)?.[1],
        data: JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as {
          status?: string;
          filesUnchanged?: number;
        },
      }));
    expect(events[0]!.type).toBe('run');
    const last = events.at(-1)!;
    expect([last.data.status, last.data.filesUnchanged]).toEqual(['completed', KEPT.length]);
    expect(
      events.filter((e) => e.type !== 'run' && e.type !== 'progress' && e.type !== 'started')
        .length,
    ).toBeLessThanOrEqual(1);
    const missing = await fetch(`${base}/api/runs/00000000-0000-4000-8000-000000000000/stream`);
    expect(missing.status).toBe(404);
  });

  it('should browse a version and restore it to where it came from', async () => {
    // Lose one photo and change another at the source.
    const lost = 'Pictures/2024/IMG_0003.jpg';
    const changed = 'Pictures/2025/clip-1.mov';
    await unlink(join(srcRoot, lost));
    await writeFile(join(srcRoot, changed), Buffer.from('edited badly'));

    await page.goto(`${base}/#/tasks`);
    await page.locator(`[data-task="${taskId}"]`).getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('heading', { name: 'Versions of “Pictures”' }).waitFor();
    const versions = page.locator('button.version');
    await expect(versions.count()).resolves.toBe(2);
    await expect(versions.first().textContent()).resolves.toContain('Version 2');
    await versions.last().click(); // version 1
    await page.getByRole('heading', { name: 'Version 1' }).waitFor();
    const tree = page.locator('.tree');
    await tree.getByRole('button', { name: '2024', exact: true }).click();
    await tree.getByText('IMG_0012.jpg').waitFor();
    await expect(tree.locator('.entry.file').count()).resolves.toBe(12);
    await shot('versions');
    await tree.getByRole('button', { name: 'All files' }).click();
    await tree.getByRole('button', { name: '2025', exact: true }).waitFor();

    const form = page.locator('form[aria-label="Restore"]');
    await form.getByLabel('The whole version').check();
    await form.getByLabel(/^Where it came from/).check();
    await form.getByLabel(/^Overwrite/).check();
    await form.getByRole('button', { name: 'Restore' }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Restore of “Pictures”' }).waitFor();
    await page.waitForFunction(RUN_COMPLETED);
    expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    await shot('restore-run');
    const runId = /#\/runs\/(.+)$/.exec(page.url())![1]!;
    const run = await api<{
      kind: string;
      status: string;
      params: { conflict: string; paths: string[] };
    }>(`/api/runs/${runId}`);
    expect(run).toMatchObject({
      kind: 'restore',
      status: 'completed',
      params: { conflict: 'overwrite', paths: [] },
    });
    // Both files are back, byte for byte; the documents the filter left out are untouched.
    expect(sha256(await readFile(join(srcRoot, lost)))).toBe(sha256(SOURCE[lost]!));
    expect(sha256(await readFile(join(srcRoot, changed)))).toBe(sha256(SOURCE[changed]!));
    expect(await readFile(join(srcRoot, 'Pictures/notes-1.txt'), 'utf8')).toBe('note 1\n');
  });

  it('should sign in to iCloud Photos with the six-digit code', async () => {
    await page.goto(`${base}/#/accounts`);
    await page.getByLabel('Kind of cloud').selectOption('icloud-photos');
    const form = 'form[aria-label="Sign in to iCloud"]';
    await field(form, 'Name *').fill('Family photos');
    await field(form, 'Apple ID *').fill(icloud.emulator.credentials.appleId);
    await field(form, 'Password *').fill(icloud.emulator.credentials.password);
    await page.locator(form).getByText('Advanced options').click();
    for (const [key, value] of Object.entries(icloud.options))
      await page.locator(`${form} [data-field="options.${key}"] input`).fill(String(value));
    await page.locator(form).getByRole('button', { name: 'Sign in' }).click();
    // The account is listed as awaiting its code, with the prompt in its card, focused.
    const card = page.locator('li.card', { hasText: 'Family photos' });
    await card.getByText('Awaiting code').waitFor();
    const prompt = card.locator('form.code-prompt');
    await expect(page.locator('form.code-prompt').count()).resolves.toBe(1);
    await page.waitForFunction("document.activeElement?.classList.contains('code') === true");
    await prompt.getByLabel('Verification code *').fill('12');
    await prompt.getByRole('button', { name: 'Confirm code' }).click();
    await expect(fieldError('code').textContent()).resolves.toBe(
      'code must be the 6-digit verification code',
    );
    await shot('icloud-code-prompt');
    const code = icloud.emulator.control.lastSecurityCode();
    expect(code).toMatch(/^\d{6}$/);
    await prompt.getByLabel('Verification code *').fill(code!);
    await prompt.getByRole('button', { name: 'Confirm code' }).click();
    await page.getByRole('status').filter({ hasText: 'Signed in to “Family photos”.' }).waitFor();
    await page.locator('li.card', { hasText: 'Family photos' }).getByText('Connected').waitFor();
    const accounts = await api<{ name: string; kind: string; state: string }[]>('/api/accounts');
    expect(accounts.find((a) => a.name === 'Family photos')).toMatchObject({
      kind: 'icloud-photos',
      state: 'connected',
    });
  });

  it('should connect Dropbox through the consent page and come back connected', async () => {
    await page.goto(`${base}/#/accounts`);
    await page.getByLabel('Kind of cloud').selectOption('dropbox');
    const form = 'form[aria-label="Add Dropbox"]';
    await field(form, 'Name *').fill('My Dropbox');
    await page.locator(form).getByText('Advanced options').click();
    const hosts = {
      apiBaseUrl: dropbox.hosts.api,
      contentBaseUrl: dropbox.hosts.content,
      notifyBaseUrl: dropbox.hosts.notify,
      authorizeBaseUrl: dropbox.hosts.www,
    };
    for (const [key, value] of Object.entries(hosts))
      await page.locator(`${form} [data-field="options.${key}"] input`).fill(value);
    await shot('dropbox-connect-form');
    await page.locator(form).getByRole('button', { name: 'Connect with Dropbox' }).click();
    // The emulator's consent page, then back through the callback.
    const allow = page.locator('a#allow');
    await allow.waitFor();
    expect(page.url().startsWith(dropbox.hosts.www)).toBe(true);
    await allow.click();
    await page.waitForURL(/\/#\/accounts\?connected=[0-9a-f-]{36}$/);
    await page.getByRole('status').filter({ hasText: 'Connected “My Dropbox”.' }).waitFor();
    const id = /connected=(.+)$/.exec(page.url())![1]!;
    await page.locator(`[data-account="${id}"]`).getByText('Connected').waitFor();
    await page
      .locator(`[data-account="${id}"]`)
      .getByRole('button', { name: 'Re-authenticate' })
      .waitFor();
    const account = await api<{ kind: string; name: string; state: string }>(`/api/accounts/${id}`);
    expect(account).toMatchObject({ kind: 'dropbox', name: 'My Dropbox', state: 'connected' });
    await shot('accounts-connected');
  });

  it('should show runs and settings, and fit every screen in 360 px', async () => {
    await page.goto(`${base}/#/runs`);
    await page.locator('li.card[data-run]').first().waitFor();
    // two backups and a restore (and the clean-ups retention may have run after each backup)
    const kinds = await page.locator('li.card[data-run] h3').allTextContents();
    expect(kinds.filter((k) => !k.startsWith('Clean-up'))).toEqual([
      'Restore of “Pictures”',
      'Backup of “Pictures”',
      'Backup of “Pictures”',
    ]);
    await shot('runs');
    await page.goto(`${base}/#/settings`);
    await page.getByRole('heading', { name: 'Mail server (SMTP)' }).waitFor();
    await shot('settings');

    await page.setViewportSize({ width: 360, height: 780 });
    const screens = [
      'accounts',
      'tasks',
      `tasks/${taskId}/edit`,
      `tasks/${taskId}/versions`,
      'runs',
      'settings',
    ];
    for (const s of screens) {
      await page.goto(`${base}/#/${s}`);
      await page.locator('main h1').waitFor();
      await page.locator('main .loading').waitFor({ state: 'detached' });
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect([s, width]).toEqual([s, 360]);
      await shot(`phone-${s.replace(taskId, 'id').replace(/\//g, '-')}`);
    }
  });

  it('should reach the navigation and the forms with the keyboard', async () => {
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${base}/#/accounts`);
    await page.getByRole('heading', { name: 'Clouds' }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''"),
      );
    }
    expect(focused.slice(0, 5)).toEqual([
      'Skip to content',
      'Clouds',
      'Backup tasks',
      'Runs',
      'Settings',
    ]);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // "Runs"
    await page.waitForURL(/#\/runs$/);
  });

  it('should leave no error in the browser console', () => {
    const unexpected = [...consoleErrors];
    for (const re of expectedErrors) {
      const i = unexpected.findIndex((e) => re.test(e));
      if (i >= 0) unexpected.splice(i, 1);
    }
    expect(unexpected).toEqual([]);
  });
});
