import type { Server } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import {
  ADMIN,
  ensureWebBuild,
  openBrowser,
  signInAgent,
  signInThroughUi,
  type BrowserSession,
  type SignedInAgent,
} from '../support/browser.js';
import { FaultyConnector } from '../support/faulty-connector.js';
import { patternBytes, sha256, writeTree } from '../support/files.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The browser app, driven in Debian's Chromium (playwright-core, no browser download), signed in
 * through its sign-in screen first: clouds, a task with a filter, a run followed live to 100 %, a
 * restore from the versions page, phone width and the keyboard. Screenshots of every screen go
 * to test-output/screenshots/; any console error fails the suite.
 */

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

/** The run page's progress bar once the run completed (a locator: the CSP forbids eval). */
const RUN_COMPLETED = '[role=progressbar][data-status="completed"]';

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

describe('web UI in a browser: backup and restore', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let srcRoot: string;
  let dstRoot: string;
  let b: BrowserSession;
  let page: BrowserSession['page'];
  let admin: SignedInAgent;

  const shot = (name: string) => b.shot(name);
  const field = (form: string, label: string) => b.field(form, label);
  const fieldError = (name: string) => b.fieldError(name);

  async function api<T>(path: string): Promise<T> {
    const res = await admin.get(path).expect(200);
    return res.body as T;
  }

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-web-'));
    srcRoot = join(dir, 'source');
    dstRoot = join(dir, 'usb');
    await writeTree(srcRoot, SOURCE);
    await mkdir(dstRoot, { recursive: true });
    t = await startTestApp({ listen: 0, registry });
    base = t.baseUrl!;
    admin = await signInAgent(t.app.getHttpServer() as Server, ADMIN);
    // Every state the progress bar and its text show, as the page draws them.
    // (Browser code is passed as text: the test's TypeScript has no DOM types.)
    b = await openBrowser(base, {
      shotPrefix: 'backup',
      initScript: `{
      const seen = [];
      window.progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role=progressbar]');
        const text = document.querySelector('.progress-text');
        if (!bar || !text) return;
        const v = (bar.getAttribute('aria-valuenow') ?? '') + '|' + text.textContent;
        if (seen.at(-1) !== v) seen.push(v);
      }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    }`,
    });
    // The photos here are pattern bytes named .jpg: their thumbnails answer 415 and hide.
    b.allowConsoleErrors(/thumbnail\?path=.* status of 415|status of 415 .*thumbnail/);
    page = b.page;
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
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
    const missing = await admin.get('/api/nothing-here').expect(404);
    expect((missing.body as { statusCode: number }).statusCode).toBe(404);
    // Signed out, the API answers 401 in JSON; the page itself is public.
    const anon = await fetch(`${base}/api/accounts`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ statusCode: 401, message: 'sign in required' });
  });

  it('should sign in through the sign-in screen and come back to the screen asked for', async () => {
    await page.goto(`${base}/#/tasks`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Only the sign-in form: no navigation, no user yet.
    expect(await page.getByRole('navigation', { name: 'Main' }).isHidden()).toBe(true);
    await shot('sign-in');
    await signInThroughUi(b, base, ADMIN, '/tasks');
    await page.getByRole('heading', { name: 'Backup tasks' }).waitFor();
    expect(await page.locator('#account').textContent()).toContain('Signed in as admin');
  });

  it('should add two local accounts and show each problem next to its field', async () => {
    await page.goto(`${base}/#/accounts`);
    await page.getByRole('heading', { name: 'Clouds' }).waitFor();
    await page.getByLabel('Kind of cloud').selectOption('local');
    const form = 'form[aria-label^="Add "]';
    await page.locator(form).getByRole('button', { name: 'Add account' }).click();
    // Checked before sending: the name and the folder are required.
    await expect(fieldError('name').textContent()).resolves.toBe('Name must not be empty');
    await expect(fieldError('options.root').textContent()).resolves.toBe('Folder is required');
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
    // Weekly, on Sunday at 03:15 in Paris; the form shows the next runs the server computes.
    await field(form, 'Schedule').selectOption('weekly');
    await page.locator('#day-mon').uncheck();
    await page.locator('#day-sun').check();
    await field(form, 'Time').fill('03:15');
    await field(form, 'Time zone').selectOption('Europe/Paris');
    await page.locator('p.help[aria-live="polite"]', { hasText: 'Next runs:' }).waitFor();
    await shot('task-form-weekly');
    // The server refuses the extension: its problem lands next to the extensions field.
    b.expectConsoleError(/status of 400/);
    const refused = page.waitForResponse(
      (r) => r.url().endsWith('/api/tasks') && r.status() === 400,
    );
    await page.getByRole('button', { name: 'Create task' }).click();
    await refused;
    await expect(fieldError('filter.extensions').textContent()).resolves.toMatch(
      /^Extensions.*'j\/pg' is not a file extension/,
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
        schedule: unknown;
      }[]
    >('/api/tasks');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      sourcePath: 'Pictures',
      targetPath: 'Backups/Pictures',
      filter: { mode: 'include', extensions: ['jpg', 'mov'] },
      concurrency: 2,
      retention: { keepLast: 5 },
      schedule: { kind: 'weekly', weekdays: ['sun'], time: '03:15', timezone: 'Europe/Paris' },
    });
    taskId = tasks[0]!.id;
    await expect(page.locator(`[data-task="${taskId}"]`).textContent()).resolves.toContain(
      'Only .jpg, .mov',
    );
    await shot('tasks');
  });

  it('should run the task and follow its progress bar live to 100 %', async () => {
    // 18 small files at concurrency 2 (two small files share a slot: 4 at a time): about 2 s, so
    // progress arrives mid-run.
    slowReadMs = 450;
    const stream = page.waitForRequest((r) => /\/api\/runs\/[0-9a-f-]+\/stream$/.test(r.url()));
    await page
      .locator(`[data-task="${taskId}"]`)
      .getByRole('button', { name: 'Run “Pictures” now' })
      .click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    const runId = /#\/runs\/(.+)$/.exec(page.url())![1]!;
    const bar = page.getByRole('progressbar', { name: 'Progress' });
    await page.locator(RUN_COMPLETED).waitFor();
    slowReadMs = 0;
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    // Drawn live from the stream: bytes copied before the end, never 100 % before it.
    const seen = await page.evaluate<string[]>('window.progressSeen');
    expect(seen.at(-1)).toMatch(/^100\|100% · /);
    // Once at 100 % it stays there: 100 % comes with the end of the run, not before it.
    const end = seen.findIndex((v) => v.startsWith('100|'));
    expect(seen.slice(end).every((v) => v.startsWith('100|'))).toBe(true);
    expect(seen.slice(0, end).some((v) => /[1-9][\d.]* (kB|MB) (copied|of)/.test(v))).toBe(true);
    const text = await page.locator('.progress-text').textContent();
    expect(text).toMatch(new RegExp(`^100% · .+ · ${KEPT.length} of ${KEPT.length} files`));
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
    const started = await admin.post(`/api/tasks/${taskId}/run`).expect(202);
    // The server ends the stream after the last event.
    const res = await admin.get(`/api/runs/${started.body.id as string}/stream`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const body = res.text;
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
    await admin.get('/api/runs/00000000-0000-4000-8000-000000000000/stream').expect(404);
  });

  it('should browse a version and restore it to where it came from', async () => {
    // Lose one photo and change another at the source.
    const lost = 'Pictures/2024/IMG_0003.jpg';
    const changed = 'Pictures/2025/clip-1.mov';
    await unlink(join(srcRoot, lost));
    await writeFile(join(srcRoot, changed), Buffer.from('edited badly'));

    await page.goto(`${base}/#/tasks`);
    await page.locator(`[data-task="${taskId}"]`).getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('heading', { name: 'Restore from “Pictures”' }).waitFor();
    const versions = page.locator('button.version');
    await expect(versions.count()).resolves.toBe(2);
    await expect(versions.first().textContent()).resolves.toContain('Version 2');
    await versions.last().click(); // version 1
    await page.getByRole('heading', { name: /^Version 1, / }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    const tree = page.locator('.tree');
    await tree.getByRole('button', { name: '2024', exact: true }).click();
    await tree.getByText('IMG_0012.jpg').waitFor();
    await expect(tree.locator('.entry.file').count()).resolves.toBe(12);
    await shot('versions');
    await tree.getByRole('button', { name: 'All files' }).click();
    await tree.getByRole('button', { name: '2025', exact: true }).waitFor();

    // Nothing ticked: the whole version.
    const form = page.locator('form[aria-label="Restore"]');
    await form.getByText('Nothing ticked: the whole version will be restored.').waitFor();
    await form.getByRole('button', { name: 'Next' }).click();
    await form.getByLabel(/^Where it came from/).check();
    await form.getByLabel(/^Overwrite/).check();
    await form.getByRole('button', { name: 'Next' }).click();
    await form.getByLabel(/^I understand this writes into the live folder/).check();
    await form.getByRole('button', { name: 'Restore now' }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Restore of “Pictures”' }).waitFor();
    await page.locator(RUN_COMPLETED).waitFor();
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

  it('should show runs and settings, and fit every screen in 360 px', async () => {
    await page.goto(`${base}/#/runs`);
    await page.locator('li[data-run]').first().waitFor();
    // two backups and a restore (and the clean-ups retention may have run after each backup)
    const kinds = await page.locator('li[data-run] .row-main > a').allTextContents();
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
    // A fresh page: Tab starts from the top, not from where earlier steps left the focus.
    await page.reload();
    await page.getByRole('heading', { name: 'Clouds' }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''"),
      );
    }
    expect(focused.slice(0, 7)).toEqual([
      'Skip to content',
      'Overview',
      'Clouds',
      'Backup tasks',
      'Runs',
      'Settings',
      'Sign out',
    ]);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // "Runs"
    await page.waitForURL(/#\/runs$/);
  });

  it('should leave no error in the browser console', () => {
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
