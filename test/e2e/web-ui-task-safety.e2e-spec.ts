import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN,
  SHOTS,
  ensureWebBuild,
  openBrowser,
  signInAgent,
  signInThroughUi,
  type BrowserSession,
  type SignedInAgent,
} from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Issue 18: the task form sets the deletion guard's thresholds, the verify read-back percent and
 * a verify schedule (task fields of the API). Screenshots in both themes, at 1100 and 390 px.
 */
describe('web UI: the task form sets the deletion guard and verify runs', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let b: BrowserSession;
  let admin: SignedInAgent;
  const form = 'form.task-form';

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-web-safety-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'usb'));
    t = await startTestApp({ listen: 0 });
    base = t.baseUrl!;
    admin = await signInAgent(t.app.getHttpServer() as Server, ADMIN);
    for (const [name, root] of [
      ['Photos', join(dir, 'src')],
      ['USB drive', join(dir, 'usb')],
    ])
      await admin.post('/api/accounts', { kind: 'local', name, options: { root } }).expect(201);
    b = await openBrowser(base, { shotPrefix: 'task-safety' });
    await signInThroughUi(b, base, ADMIN, '/tasks');
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should show the guard on with its defaults, refuse a percent over 100, and save what was set', async () => {
    const { page } = b;
    await page.goto(`${base}/#/tasks/new`);
    await page.getByRole('heading', { name: 'New backup task' }).waitFor();
    expect(await b.field(form, 'Hold suspicious versions').isChecked()).toBe(true);
    expect(await b.field(form, 'When more than … % of the files go').inputValue()).toBe('50');
    expect(await b.field(form, '…and more than … files').inputValue()).toBe('20');
    expect(await b.field(form, 'Verify at').isVisible()).toBe(false);
    expect(await b.field(form, 'Read each copy back').isChecked()).toBe(false);

    await b.field(form, 'Name *').fill('Pictures');
    await b.field(form, 'Back up from *').selectOption({ label: 'Photos' });
    await b.field(form, 'Store the backup in *').selectOption({ label: 'USB drive' });
    await b.field(form, 'When more than … % of the files go').fill('150');
    await page.getByRole('button', { name: 'Create task' }).click();
    await expect(b.fieldError('deletionGuard.percent').textContent()).resolves.toContain(
      'from 0 to 100',
    );

    await b.field(form, 'When more than … % of the files go').fill('30');
    await b.field(form, '…and more than … files').fill('5');
    await b.field(form, 'Verify: read back … % of the stored files').fill('10');
    await b.field(form, 'Read each copy back').check();
    await b.field(form, 'Verify the backup').selectOption('weekly');
    await b.field(form, 'Verify on').selectOption('sat');
    await b.field(form, 'Verify at').fill('05:00');
    await b.field(form, 'Verify time zone').selectOption('Europe/Paris');
    await b.shot('form-light-1100');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.waitForURL((u) => u.hash === '#/tasks');

    const [task] = (await admin.get('/api/tasks').expect(200)).body as Array<{
      id: string;
      deletionGuard: object;
      verify: object;
    }>;
    expect(task!.deletionGuard).toEqual({
      enabled: true,
      percent: 30,
      minFiles: 5,
      countChanged: true,
      holdWhenEmptied: true,
    });
    expect(task!.verify).toEqual({
      readPercent: 10,
      readBackAfterWrite: true,
      schedule: { kind: 'weekly', time: '05:00', weekdays: ['sat'], timezone: 'Europe/Paris' },
    });

    // Turned off by hand only: the edit form shows what was saved, and saves the switch.
    await page.goto(`${base}/#/tasks/${task!.id}/edit`);
    await page.getByRole('heading', { name: 'Edit “Pictures”' }).waitFor();
    expect(await b.field(form, 'Verify at').inputValue()).toBe('05:00');
    await b.field(form, 'Hold suspicious versions').uncheck();
    expect(await b.field(form, 'When more than … % of the files go').isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL((u) => u.hash === '#/tasks');
    const saved = (await admin.get(`/api/tasks/${task!.id}`).expect(200)).body;
    expect(saved.deletionGuard).toMatchObject({ enabled: false, percent: 30, minFiles: 5 });
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });

  it('should fit a 390 px phone without sideways scrolling, in both themes', async () => {
    const { page } = b;
    for (const scheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${base}/#/tasks/new`);
      await page.getByRole('heading', { name: 'New backup task' }).waitFor();
      await b.field(form, 'Verify the backup').selectOption('monthly');
      await b.field(form, 'Hold suspicious versions').scrollIntoViewIfNeeded();
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect([scheme, width]).toEqual([scheme, 390]);
      await b.shot(`form-${scheme}-390`);
      // The new section alone, at a size one can read.
      await page
        .locator('fieldset.section', { has: page.locator('legend', { hasText: 'Safety' }) })
        .screenshot({ path: join(SHOTS, `task-safety-section-${scheme}-390.png`) });
    }
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${base}/#/tasks/new`);
    await page.getByRole('heading', { name: 'New backup task' }).waitFor();
    await b.shot('form-dark-1100');
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
