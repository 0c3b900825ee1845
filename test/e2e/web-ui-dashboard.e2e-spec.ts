import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import {
  ensureWebBuild,
  openBrowser,
  signInThroughUi,
  ADMIN,
  type BrowserSession,
} from '../support/browser.js';
import { FaultyConnector } from '../support/faulty-connector.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The home page and the run pages, driven in Chromium: the dashboard after a failed, a
 * completed-with-warnings and a successful run, the Runs page filtered, a run's log with its
 * per-file error (and as CSV), live progress of multi-MB files measured in bytes, dark mode and
 * phone width.
 */

const MB = 1_000_000;
/**
 * A folder whose one file cannot be read: its backups complete with warnings, a version holding
 * the good file and a per-file error in the log.
 */
const BROKEN = 'broken';
/** A source folder removed before its task runs: the run stops, nothing written, and fails. */
const UNPLUGGED = 'unplugged';
/** Reads of the `videos` folder flow at about this many bytes per second. */
const THROTTLE_BPS = 2 * MB;

function throttle(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      setTimeout(() => cb(null, chunk), (chunk.length / bytesPerSecond) * 1000);
    },
  });
}

const registry = new ConnectorRegistry(
  CONNECTOR_DESCRIPTORS.map((d) =>
    d.kind !== 'local'
      ? d
      : {
          ...d,
          create: (settings, ctx) => {
            const inner = d.create(settings, ctx);
            const faulty = new FaultyConnector(inner, (op, path) =>
              op === 'read' && path.endsWith(`${BROKEN}/unreadable.jpg`)
                ? new Error('permission denied while reading')
                : undefined,
            );
            const read = faulty.read.bind(faulty);
            faulty.read = async (path, opts) => {
              const s = await read(path, opts);
              return path.includes('videos/') || path.includes('film/')
                ? s.pipe(throttle(THROTTLE_BPS))
                : s;
            };
            return faulty;
          },
        },
  ),
);

describe('web UI in a browser: dashboard, runs, progress, logs, themes', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let b: BrowserSession;
  let page: BrowserSession['page'];
  const ids: Record<string, string> = {};

  const post = async <T>(path: string, body: object, status = 201): Promise<T> =>
    (await t.http.post(path).send(body).expect(status)).body as T;

  async function runToEnd(taskId: string): Promise<{ id: string; status: string }> {
    const run = await post<{ id: string }>(`/api/tasks/${taskId}/run`, {}, 202);
    for (let i = 0; i < 600; i++) {
      const r = (await t.http.get(`/api/runs/${run.id}`).expect(200)).body as {
        id: string;
        status: string;
      };
      if (!['queued', 'running'].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('run did not end');
  }

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-dash-'));
    await writeTree(join(dir, 'src'), {
      'photos/IMG_0001.jpg': patternBytes(1.5 * MB, 1),
      'photos/IMG_0002.jpg': patternBytes(2.5 * MB, 2),
      'photos/notes.txt': Buffer.from('notes\n'),
      [`${BROKEN}/fine.jpg`]: patternBytes(200_000, 3),
      [`${BROKEN}/unreadable.jpg`]: patternBytes(300_000, 4),
      [`${UNPLUGGED}/letter.txt`]: Buffer.from('dear drive\n'),
      'videos/a-note.txt': Buffer.from('small first\n'),
      'videos/clip-1.mov': patternBytes(3 * MB, 5),
      'videos/clip-2.mov': patternBytes(3 * MB, 6),
      'videos/clip-3.mov': patternBytes(3 * MB, 7),
    });
    await writeTree(join(dir, 'dst'), { '.keep': Buffer.from('') });
    t = await startTestApp({ listen: 0, registry });
    base = t.baseUrl!;
    const src = await post<{ id: string }>('/api/accounts', {
      kind: 'local',
      name: 'Laptop',
      options: { root: join(dir, 'src') },
    });
    const dst = await post<{ id: string }>('/api/accounts', {
      kind: 'local',
      name: 'USB drive',
      options: { root: join(dir, 'dst') },
    });
    const task = (name: string, sourcePath: string, extra: object = {}) =>
      post<{ id: string }>('/api/tasks', {
        name,
        sourceAccountId: src.id,
        sourcePath,
        targetAccountId: dst.id,
        targetPath: `Backups/${sourcePath}`,
        ...extra,
      });
    ids.photos = (
      await task('Photos', 'photos', {
        schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      })
    ).id;
    ids.broken = (await task('Documents', BROKEN)).id;
    ids.videos = (await task('Videos', 'videos', { concurrency: 1 })).id;
    ids.unplugged = (await task('Archive', UNPLUGGED)).id;
    b = await openBrowser(base, {
      shotPrefix: 'dashboard',
      // Every value the progress bar and its text show, as the page draws them.
      initScript: `{
        const seen = [];
        window.progressSeen = seen;
        new MutationObserver(() => {
          const bar = document.querySelector('[role=progressbar]');
          const text = document.querySelector('.progress-text');
          const phase = document.querySelector('.phase');
          if (!bar || !text) return;
          const v = [bar.getAttribute('aria-valuenow'), text.textContent, phase && phase.textContent].join('|');
          if (seen.at(-1) !== v) seen.push(v);
        }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
      }`,
    });
    page = b.page;
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should open on the overview, with an empty state before anything ran', async () => {
    await signInThroughUi(b, base, ADMIN, '/dashboard');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Four tasks, none run yet.
    await page.locator('[data-headline="never"]').waitFor();
    expect(await page.locator('li[data-task]').count()).toBe(4);
    expect(
      await page.locator(`li[data-task="${ids.photos}"] [data-fact="last"]`).textContent(),
    ).toBe('Never run');
    // The scheduled task says when it runs next; the others are manual.
    expect(
      await page.locator(`li[data-task="${ids.photos}"] [data-fact="next"]`).textContent(),
    ).toMatch(/^in \d+ (hours?|minutes?)$|^tomorrow$/);
    expect(
      await page.locator(`li[data-task="${ids.broken}"] [data-fact="next"]`).textContent(),
    ).toBe('Manual only');
  });

  it('should show a failed, a warned and a successful task at a glance', async () => {
    expect((await runToEnd(ids.photos)).status).toBe('completed');
    // One unreadable file no longer fails the run: the good file is kept in a version.
    expect((await runToEnd(ids.broken)).status).toBe('warning');
    // A source folder gone at run time still stops the run, nothing written.
    await rm(join(dir, 'src', UNPLUGGED), { recursive: true, force: true });
    expect((await runToEnd(ids.unplugged)).status).toBe('offline');
    await page.reload();
    const bad = page.locator('[data-headline="bad"]');
    await bad.waitFor();
    expect(await bad.textContent()).toBe('2 of 4 tasks need attention.');

    const photos = page.locator(`li[data-task="${ids.photos}"]`);
    expect(await photos.getAttribute('data-health')).toBe('ok');
    expect(await photos.locator('.health-badge').textContent()).toBe('Healthy');
    expect(await photos.locator('[data-fact="last"]').textContent()).toMatch(/^Completed /);
    expect(await photos.locator('[data-fact="version"]').textContent()).toMatch(/^Version 1, /);
    // 3 files, 4 MB: one byte formatter, the browser's locale (en-US in this Chromium).
    expect(await photos.locator('[data-fact="protected"]').textContent()).toBe('3 files · 4 MB');

    const broken = page.locator(`li[data-task="${ids.broken}"]`);
    expect(await broken.getAttribute('data-health')).toBe('attention');
    expect(await broken.locator('.health-badge').textContent()).toBe('Needs attention');
    expect(await broken.locator('[data-fact="last"]').textContent()).toMatch(
      /^Completed with warnings .* — 1 file\(s\) skipped \(see the run log\)/,
    );
    // The good file is protected all the same.
    expect(await broken.locator('[data-fact="version"]').textContent()).toMatch(/^Version 1, /);
    expect(await broken.locator('[data-fact="protected"]').textContent()).toBe('1 file · 200 kB');

    const unplugged = page.locator(`li[data-task="${ids.unplugged}"]`);
    expect(await unplugged.getAttribute('data-health')).toBe('failed');
    expect(await unplugged.locator('.health-badge').textContent()).toBe('Last backup failed');
    expect(await unplugged.locator('[data-fact="last"]').textContent()).toMatch(
      new RegExp(`^Stopped .* — the source is offline: the folder '${UNPLUGGED}' is not there`),
    );
    expect(await unplugged.locator('[data-fact="version"]').textContent()).toBe('None yet');
    expect(await unplugged.locator('[data-fact="protected"]').textContent()).toBe('–');
    // Today's cell of each strip: green for the good task, amber for the warned one, its own
    // colour for the offline one; a legend says which is which.
    const today = await page.evaluate(() => {
      const d = new Date();
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
    });
    const outcome = (card: typeof photos) =>
      card.locator(`.strip [data-day="${today}"]`).getAttribute('data-outcome');
    expect(await outcome(photos)).toBe('ok');
    expect(await outcome(broken)).toBe('warning');
    expect(await outcome(unplugged)).toBe('offline');
    expect(await page.locator('.strip-legend li').allTextContents()).toEqual([
      'Good',
      'With warnings',
      'Failed',
      'Offline',
      'Running',
      'No runs',
    ]);
    expect(await broken.locator(`.strip [data-day="${today}"]`).getAttribute('title')).toMatch(
      /: 1 completed with warnings$/,
    );
    expect(await broken.locator('.strip').getAttribute('aria-label')).toBe(
      'Last 30 days: 0 days with good runs, 1 day with warnings, 0 days with failures, 0 days offline, 29 days without runs',
    );
    expect(await unplugged.locator('.strip').getAttribute('aria-label')).toBe(
      'Last 30 days: 0 days with good runs, 0 days with warnings, 0 days with failures, 1 day offline, 29 days without runs',
    );
    expect(await photos.locator('.strip .day').count()).toBe(30);
    // Storage used on the target: all four tasks write to the USB drive (4.2 MB stored).
    expect(await page.locator('.storage-list li').textContent()).toMatch(
      /^USB drive4(\.\d)? MB4 tasks$/,
    );
    // Repeated buttons say which task they act on.
    await page.getByRole('button', { name: 'Run “Archive” now' }).waitFor();
    await page.getByRole('link', { name: 'Restore from “Photos”' }).waitFor();
    await b.shot('failed-warned-and-ok');
  });

  it('should filter the Runs page by task, kind, status and date', async () => {
    await page.goto(`${base}/#/runs`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(await page.locator('li[data-run]').count()).toBe(3);
    await page.getByLabel('Result').selectOption('warning');
    await page.waitForURL((u) => u.hash === '#/runs?status=warning');
    await page.locator('li[data-run]').first().waitFor();
    expect(await page.locator('li[data-run]').count()).toBe(1);
    expect(await page.locator('li[data-run] a').textContent()).toBe('Backup of “Documents”');
    expect(await page.locator('li[data-run] .badge').textContent()).toBe('Completed with warnings');
    await b.shot('runs-filtered');
    await page.getByLabel('Result').selectOption('offline');
    await page.waitForURL((u) => u.hash === '#/runs?status=offline');
    await page.locator('li[data-run] a', { hasText: 'Archive' }).waitFor();
    expect(await page.locator('li[data-run] a').allTextContents()).toEqual(['Backup of “Archive”']);
    await page.getByLabel('Result').selectOption('');
    await page.getByLabel('Task').selectOption({ label: 'Photos' });
    await page.waitForURL((u) => u.hash === `#/runs?task=${ids.photos}`);
    await page.locator('li[data-run] a', { hasText: 'Photos' }).waitFor();
    expect(await page.locator('li[data-run] a').allTextContents()).toEqual(['Backup of “Photos”']);
    await page.getByLabel('Kind').selectOption('restore');
    await page.getByText('No run matches these filters.').waitFor();
    // Dates: nothing ran yesterday or before.
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await page.waitForURL((u) => u.hash === '#/runs');
    const yesterday = await page.evaluate(() => {
      const d = new Date(Date.now() - 86_400_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
    });
    await page.getByLabel('To').fill(yesterday);
    await page.getByLabel('To').dispatchEvent('change');
    await page.getByText('No run matches these filters.').waitFor();
    await page.getByLabel('From').fill(yesterday);
    await page.getByLabel('From').dispatchEvent('change');
    await page.getByLabel('To').fill('');
    await page.getByLabel('To').dispatchEvent('change');
    await page.waitForURL((u) => u.hash === `#/runs?from=${yesterday}`);
    await page.locator('li[data-run]').nth(1).waitFor();
    // A wrong filter is a 400 naming it.
    const refused = await t.http.get('/api/dashboard/runs?status=exploded').expect(400);
    expect(JSON.stringify(refused.body)).toContain('status must be one of');
  });

  it('should tell a warned run’s story in plain lines, with the file and its reason', async () => {
    await page.goto(`${base}/#/runs?status=warning`);
    await page.locator('li[data-run] a').click();
    await page.getByRole('heading', { name: 'Backup of “Documents”' }).waitFor();
    const log = page.getByRole('list', { name: 'Run log' });
    await log.locator('li.log-error code').waitFor();
    const lines = await log.locator('li').allTextContents();
    expect(lines.join('\n')).toMatch(/Listed 2 files at the source; .*to protect\./);
    expect(lines.join('\n')).toMatch(/Copied 1 new or changed file \(200 kB\)\./);
    expect(lines.join('\n')).toMatch(/1 file could not be copied: the reasons are below\./);
    expect(lines.join('\n')).toMatch(
      /Completed with warnings .*: 1 file\(s\) skipped \(see the run log\)/,
    );
    const fileLine = await log.locator('li.log-error', { has: page.locator('code') }).textContent();
    expect(fileLine).toContain(`${BROKEN}/unreadable.jpg`);
    expect(fileLine).toContain('permission denied while reading');
    await b.shot('run-warning-log');
    // The same as CSV, one line per entry.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download log as CSV' }).click();
    const csv = await readFile((await (await download).path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('time,level,path,message');
    expect(csv).toMatch(/,error,broken\/unreadable\.jpg,.*permission denied while reading/);
    const json = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download log as JSON' }).click();
    const parsed = JSON.parse(await readFile((await (await json).path())!, 'utf8')) as {
      run: { status: string };
      log: { level: string; path: string | null }[];
    };
    expect(parsed.run.status).toBe('warning');
    expect(
      parsed.log.some((l) => l.level === 'error' && l.path === `${BROKEN}/unreadable.jpg`),
    ).toBe(true);
  });

  it('should tell a failed run’s story: stopped, nothing written, and why', async () => {
    await page.goto(`${base}/#/runs?status=offline`);
    await page.locator('li[data-run] a', { hasText: 'Archive' }).click();
    await page.getByRole('heading', { name: 'Backup of “Archive”' }).waitFor();
    const log = page.getByRole('list', { name: 'Run log' });
    await log.locator('li.log-error').first().waitFor();
    expect((await log.locator('li').allTextContents()).join('\n')).toMatch(
      new RegExp(
        `Stopped .*, nothing written: the source is offline: the folder '${UNPLUGGED}' is not there`,
      ),
    );
    await b.shot('run-failed-log');
  });

  it('should follow a run of multi-MB files live by bytes and show its duration at the end', async () => {
    await page.goto(`${base}/#/dashboard`);
    await page.getByRole('button', { name: 'Run “Videos” now' }).click();
    await page.waitForURL((u) => /^#\/runs\/[\w-]+$/.test(u.hash));
    await page.locator('[role=progressbar][data-status="completed"]').waitFor({ timeout: 30_000 });
    // The duration shows without a reload.
    await expect(page.locator('[data-finished]').textContent()).resolves.toMatch(/took \d+ s$/);
    const seen = (await page.evaluate('window.progressSeen')) as string[];
    // Bytes moved in steps while the page watched, speed showed, and it ended at 100 %.
    const copied = seen
      .map((s) => /([\d.]+) MB (?:copied|of)/.exec(s.split('|')[1] ?? '')?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number);
    expect(new Set(copied).size).toBeGreaterThanOrEqual(3);
    expect([...copied].sort((a, c) => a - c)).toEqual(copied);
    expect(seen.some((s) => /\d+(\.\d)? MB\/s/.test(s))).toBe(true);
    expect(seen.at(-1)).toMatch(/^100\|100% · 9 MB of 9 MB · 4 of 4 files/);
    // Never a percentage above what the bytes say (the old bar said 75 % after the small
    // files): every percentage is bytes copied of bytes to copy.
    for (const s of seen) {
      const [pct, text] = s.split('|');
      const m = /([\d.]+) (kB|MB|B) of ([\d.]+) MB/.exec(text ?? '');
      if (!pct || !m) continue;
      const done = Number(m[1]) * (m[2] === 'MB' ? 1 : m[2] === 'kB' ? 0.001 : 0.000001);
      expect(Number(pct)).toBeLessThanOrEqual(Math.ceil((done / Number(m[3])) * 100) + 1);
    }
    await b.shot('run-videos-done');
  }, 60_000);

  it('should show the file in flight and its bytes growing before it ends', async () => {
    // One large file read slowly: the run's counters only move inside it.
    await writeTree(join(dir, 'src'), { 'film/holiday.mov': patternBytes(10 * MB, 20) });
    const film = await post<{ id: string }>('/api/tasks', {
      name: 'Film',
      sourceAccountId: (await t.http.get(`/api/tasks/${ids.videos}`).expect(200)).body
        .sourceAccountId as string,
      sourcePath: 'film',
      targetAccountId: (await t.http.get(`/api/tasks/${ids.videos}`).expect(200)).body
        .targetAccountId as string,
      targetPath: 'Backups/film',
    });
    const run = await post<{ id: string }>(`/api/tasks/${film.id}/run`, {}, 202);
    await page.goto(`${base}/#/runs/${run.id}`);
    const item = page.locator('ul[aria-label="Files in flight"] li[data-path="holiday.mov"]');
    await item.waitFor({ timeout: 15_000 });
    expect(await item.locator('code').textContent()).toBe('holiday.mov');
    // A file moving means the listing is over: the phase says so at once.
    expect(await page.locator('.phase').getAttribute('data-phase')).toBe('copying');
    const seen: number[] = [];
    let shot = false;
    for (let i = 0; i < 100; i++) {
      const text = (await item.textContent({ timeout: 1_000 }).catch(() => null)) ?? '';
      const m = /([\d.]+) (kB|MB) of 10 MB/.exec(text);
      if (m) {
        const mb = Number(m[1]) * (m[2] === 'MB' ? 1 : 0.001);
        if (seen.at(-1) !== mb) seen.push(mb);
        if (!shot && mb >= 2) {
          await b.shot('run-file-in-flight');
          await page.setViewportSize({ width: 390, height: 844 });
          await page.emulateMedia({ colorScheme: 'dark' });
          await b.shot('run-file-in-flight-390-dark');
          await page.setViewportSize({ width: 1100, height: 900 });
          await page.emulateMedia({ colorScheme: 'light' });
          shot = true;
        }
      }
      const status = await t.http.get(`/api/runs/${run.id}`).expect(200);
      if ((status.body as { status: string }).status !== 'running' && seen.length > 0) break;
      await page.waitForTimeout(250);
    }
    // Several values under the file's size, growing, seen while the file was still copying.
    expect(seen.filter((x) => x < 10).length).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, c) => a - c)).toEqual(seen);
    await page.locator('[role=progressbar][data-status="completed"]').waitFor({ timeout: 30_000 });
    // Once the run ended, nothing is in flight any more.
    expect(await page.locator('ul[aria-label="Files in flight"]').count()).toBe(0);
  }, 60_000);

  it('should pause a running run and resume it from its page', async () => {
    for (let i = 4; i <= 6; i++)
      await writeTree(join(dir, 'src'), { [`videos/clip-${i}.mov`]: patternBytes(3 * MB, 10 + i) });
    await page.goto(`${base}/#/dashboard`);
    await page.getByRole('button', { name: 'Run “Videos” now' }).click();
    await page.waitForURL((u) => /^#\/runs\/[\w-]+$/.test(u.hash));
    await page.getByRole('button', { name: 'Pause run' }).click();
    await page.locator('.phase[data-phase="paused"]').waitFor();
    expect(await page.locator('.phase').textContent()).toBe('Paused');
    await b.shot('run-paused');
    await page.getByRole('button', { name: 'Resume run' }).click();
    await page.locator('[role=progressbar][data-status="completed"]').waitFor({ timeout: 30_000 });
    // An incremental run: the server counts the unchanged files' bytes too, so the page knows
    // the bytes to copy and says how much it left alone.
    expect(await page.locator('.progress-text').textContent()).toMatch(
      /^100% · 9 MB of 9 MB · 3 of 3 files/,
    );
    expect(await page.locator('[data-count="unchanged"]').textContent()).toBe('4 files, 9 MB');
    const log = page.getByRole('list', { name: 'Run log' });
    await log.locator('li').first().waitFor();
    expect((await log.locator('li').allTextContents()).join('\n')).toContain(
      'Unchanged 4 files, 9 MB: not copied again.',
    );
  }, 60_000);

  it('should follow the system’s dark setting and switch themes by hand', async () => {
    const bg = () =>
      page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${base}/#/dashboard`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await bg()).toBe('rgb(17, 21, 28)');
    await b.shot('overview-dark');
    await page.goto(`${base}/#/runs`);
    await page.locator('li[data-run]').first().waitFor();
    await b.shot('runs-dark');
    await page.locator('li[data-run] a', { hasText: 'Documents' }).click();
    await page.getByRole('list', { name: 'Run log' }).locator('li').first().waitFor();
    await b.shot('run-failed-dark');
    // The switch wins over the system, and is remembered.
    await page.getByLabel('Theme').selectOption('light');
    expect(await bg()).toBe('rgb(244, 246, 249)');
    await page.reload();
    await page.getByRole('heading', { name: /Backup of/ }).waitFor();
    expect(await bg()).toBe('rgb(244, 246, 249)');
    await page.getByLabel('Theme').selectOption('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await bg()).toBe('rgb(17, 21, 28)');
    await page.getByLabel('Theme').selectOption('system');
    expect(await bg()).toBe('rgb(244, 246, 249)');
  });

  it('should fit a 390 px phone without sideways scrolling, in both themes', async () => {
    for (const [width, scheme] of [
      [390, 'light'],
      [390, 'dark'],
      [1100, 'dark'],
    ] as const) {
      await page.setViewportSize({ width, height: 844 });
      await page.emulateMedia({ colorScheme: scheme });
      for (const [route, name] of [
        ['/dashboard', 'overview'],
        ['/runs', 'runs'],
        ['/accounts', 'accounts'],
        ['/tasks', 'tasks'],
        ['/tasks/new', 'task-form'],
        ['/settings', 'settings'],
      ] as const) {
        await page.goto(`${base}/#${route}`);
        await page.locator('main h1').waitFor();
        await page.locator('main .loading').waitFor({ state: 'detached' });
        if (name === 'accounts') {
          // The edit form of an account, open.
          await page.getByRole('button', { name: 'Edit “Laptop”' }).click();
          await page.locator('form.edit-account').waitFor();
        }
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect([name, overflow]).toEqual([name, 0]);
        await b.shot(`${name}-${width}-${scheme}`);
      }
    }
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });

  it('should rename an account from its card', async () => {
    await page.goto(`${base}/#/accounts`);
    await page.getByRole('button', { name: 'Edit “Laptop”' }).click();
    const form = 'form.edit-account';
    await b.field(form, 'Name *').fill('');
    await page.locator(form).getByRole('button', { name: 'Save changes' }).click();
    expect(await b.fieldError('name').first().textContent()).toBe('Name must not be empty');
    await b.field(form, 'Name *').fill('Laptop at home');
    expect(await b.fieldError('name').first().isHidden()).toBe(true);
    await page.locator(form).getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “Laptop at home”.' }).waitFor();
    await page.locator('li.card h3', { hasText: 'Laptop at home' }).waitFor();
    const accounts = (await t.http.get('/api/accounts').expect(200)).body as { name: string }[];
    expect(accounts.map((a) => a.name).sort()).toEqual(['Laptop at home', 'USB drive']);
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
