import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import type { ConnectorDescriptor } from '../../src/connectors/connector-descriptor.js';
import { localConnectorDescriptor } from '../../src/connectors/local/index.js';
import {
  ADMIN,
  ensureWebBuild,
  openBrowser,
  signInThroughUi,
  type BrowserSession,
} from '../support/browser.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The restore wizard in Chromium: a version chosen by date with what changed since the one
 * before, files found by search, the original place of a read-only source refused with its
 * reason, a confirmation before writing into a cloud, and "keep both" next to identical files.
 * Also: a form's error, worded with the field's label, goes away once the field is fixed.
 */

const READ_ONLY_REASON = 'this photo library can only be read';

/** A local folder that says it cannot be written to, as iCloud Photos does. */
const readOnlyPhotos: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'test-photos',
  displayName: 'Photo library (tests)',
  capabilities: {
    ...localConnectorDescriptor.capabilities,
    writable: false,
    readOnlyReason: READ_ONLY_REASON,
  },
};
/** A local folder dressed as a cloud: restoring into it must be confirmed. */
const testCloud: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'test-cloud',
  displayName: 'Cloud drive (tests)',
};
const registry = new ConnectorRegistry([...CONNECTOR_DESCRIPTORS, readOnlyPhotos, testCloud]);

describe('web UI in a browser: the restore wizard', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let b: BrowserSession;
  let page: BrowserSession['page'];
  let taskId: string;
  const cloudDir = () => join(dir, 'cloud');

  const post = async <T>(path: string, body: object, status = 201): Promise<T> =>
    (await t.http.post(path).send(body).expect(status)).body as T;

  async function waitForRun(id: string): Promise<{ status: string; filesCopied: number }> {
    for (let i = 0; i < 600; i++) {
      const r = (await t.http.get(`/api/runs/${id}`).expect(200)).body as {
        status: string;
        filesCopied: number;
      };
      if (!['queued', 'running'].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('run did not end');
  }

  /** The wizard from its first step (its steps share one address). */
  async function openWizard(): Promise<void> {
    await page.goto(`${base}/#/dashboard`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${base}/#/tasks/${taskId}/versions`);
    await page.locator('[data-diff="some"]').waitFor();
  }

  async function listTree(root: string, prefix = ''): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(root, { withFileTypes: true })) {
      if (e.isDirectory()) out.push(...(await listTree(join(root, e.name), `${prefix}${e.name}/`)));
      else out.push(`${prefix}${e.name}`);
    }
    return out.sort();
  }

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-restore-ui-'));
    await writeTree(join(dir, 'photos'), {
      '2024/IMG_0001.jpg': patternBytes(120_000, 1),
      '2024/IMG_0002.jpg': patternBytes(130_000, 2),
      '2025/IMG_0003.jpg': patternBytes(140_000, 3),
    });
    await writeTree(join(dir, 'nas'), { '.keep': Buffer.from('') });
    await writeTree(cloudDir(), { '.keep': Buffer.from('') });
    t = await startTestApp({ listen: 0, registry });
    base = t.baseUrl!;
    const photos = await post<{ id: string }>('/api/accounts', {
      kind: 'test-photos',
      name: 'iPhone photos',
      options: { root: join(dir, 'photos') },
    });
    const nas = await post<{ id: string }>('/api/accounts', {
      kind: 'local',
      name: 'NAS',
      options: { root: join(dir, 'nas') },
    });
    await post('/api/accounts', {
      kind: 'test-cloud',
      name: 'Family cloud',
      options: { root: cloudDir() },
    });
    taskId = (
      await post<{ id: string }>('/api/tasks', {
        name: 'Phone',
        sourceAccountId: photos.id,
        sourcePath: '',
        targetAccountId: nas.id,
        targetPath: 'phone',
      })
    ).id;
    const first = await post<{ id: string }>(`/api/tasks/${taskId}/run`, {}, 202);
    expect((await waitForRun(first.id)).status).toBe('completed');
    // The second version adds one photo and changes another.
    await writeFile(join(dir, 'photos', '2025', 'IMG_0004.jpg'), patternBytes(150_000, 4));
    await writeFile(join(dir, 'photos', '2024', 'IMG_0002.jpg'), patternBytes(131_000, 22));
    const second = await post<{ id: string }>(`/api/tasks/${taskId}/run`, {}, 202);
    expect((await waitForRun(second.id)).status).toBe('completed');
    b = await openBrowser(base, { shotPrefix: 'restore' });
    // The photos here are pattern bytes named .jpg: their thumbnails answer 415 and hide.
    b.allowConsoleErrors(/status of 415/);
    page = b.page;
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should show the versions by date with what changed since the one before', async () => {
    await signInThroughUi(b, base, ADMIN, `/tasks/${taskId}/versions`);
    await page.getByRole('heading', { name: 'Restore from “Phone”' }).waitFor();
    await page.getByRole('heading', { name: 'Choose a version' }).waitFor();
    // The newest version is chosen; its diff against version 1.
    await page.locator('[data-diff="some"]').waitFor();
    expect(await page.locator('.diff summary').allTextContents()).toEqual(['1 added', '1 changed']);
    await page.locator('.diff-added summary').click();
    expect(await page.locator('.diff-added li').allTextContents()).toEqual(['2025/IMG_0004.jpg']);
    await b.shot('step-version');
  });

  it('should find files by search and select all of them', async () => {
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'What to restore from version 2' }).waitFor();
    await page.getByRole('button', { name: '2024', exact: true }).waitFor();
    await page.getByLabel('Search this version').fill('img_000');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('4 files match “img_000”.').waitFor();
    await page.getByLabel('Search this version').fill('2024/');
    await page.getByLabel('Search this version').press('Enter');
    await page.getByText('2 files match “2024/”.').waitFor();
    await page.getByLabel('Select all shown').check();
    await page.getByText('2 files and folders ticked.').waitFor();
    expect(await page.getByLabel('Select 2024/IMG_0002.jpg').isChecked()).toBe(true);
    await b.shot('step-files');
  });

  it('should refuse the original place of a read-only source, saying why', async () => {
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Where to restore' }).waitFor();
    const original = page.getByLabel(/^Where it came from/);
    expect(await original.isDisabled()).toBe(true);
    expect(await page.locator('[data-why="read-only"]').textContent()).toBe(
      `Not possible: ${READ_ONLY_REASON}.`,
    );
    // Nothing is chosen for the user: going on asks, with the field's label, not its key.
    await page.getByRole('button', { name: 'Next' }).click();
    const err = b.fieldError('destination');
    expect(await err.textContent()).toBe('Restore to: choose where the files go');
    await b.shot('step-destination-refused');
    // Fixing the field clears its error at once.
    await page.getByLabel('Somewhere else').check();
    expect(await err.isHidden()).toBe(true);
    // "Skip identical" is the default.
    expect(await page.getByLabel(/^Skip identical files/).isChecked()).toBe(true);
    // The read-only account cannot be picked as a destination either.
    const option = page.locator('[data-field="destination.accountId"] option', {
      hasText: 'iPhone photos',
    });
    expect(await option.isDisabled()).toBe(true);
    await page.getByLabel('Account', { exact: true }).selectOption({ label: 'Family cloud' });
    await page.getByLabel('Folder', { exact: true }).fill('Restored');
    await page.getByRole('button', { name: 'Next' }).click();
  });

  it('should sum up and ask before writing into a cloud', async () => {
    await page.getByRole('heading', { name: 'Review and confirm' }).waitFor();
    expect(await page.locator('[data-summary="to"]').textContent()).toBe('Family cloud › Restored');
    await page.getByRole('button', { name: 'Restore now' }).click();
    expect(await b.fieldError('confirm').textContent()).toBe(
      'Tick the box to confirm writing into “Family cloud”',
    );
    await b.shot('step-review-confirm');
    await page.getByLabel('I understand this writes into “Family cloud”, a live cloud.').check();
    expect(await b.fieldError('confirm').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Restore now' }).click();
    await page.waitForURL((u) => /^#\/runs\/[\w-]+$/.test(u.hash));
    await page.locator('[role=progressbar][data-status="completed"]').waitFor();
    // The log says which version went where.
    const log = await page.getByRole('list', { name: 'Run log' }).textContent();
    expect(log).toMatch(
      /Restore of 2024\/IMG_000[12]\.jpg, 2024\/IMG_000[12]\.jpg from version 2 \(.+\) to Family cloud › Restored\./,
    );
    await b.shot('restore-run-done');
    expect(await listTree(join(cloudDir(), 'Restored'))).toEqual([
      '2024/IMG_0001.jpg',
      '2024/IMG_0002.jpg',
    ]);
    expect(await readFile(join(cloudDir(), 'Restored', '2024', 'IMG_0002.jpg'))).toEqual(
      patternBytes(131_000, 22),
    );
  });

  it('should restore with "keep both" next to files already there', async () => {
    await openWizard();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Select folder 2024').check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Somewhere else').check();
    await page.getByLabel('Account', { exact: true }).selectOption({ label: 'Family cloud' });
    await page.getByLabel('Folder', { exact: true }).fill('Restored');
    await page.getByLabel(/^Keep both/).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/^I understand this writes into/).check();
    await page.getByRole('button', { name: 'Restore now' }).click();
    await page.waitForURL((u) => /^#\/runs\/[\w-]+$/.test(u.hash));
    await page.locator('[role=progressbar][data-status="completed"]').waitFor();
    expect(await page.getByRole('list', { name: 'Run log' }).textContent()).toContain(
      'files already there with other content were kept, the restored copy renamed',
    );
  });

  // "Keep both" of a file that is already there byte for byte keeps the one copy (the restore
  // executor compares before renaming, as "skip identical" does).
  it('should never duplicate identical files with "keep both"', async () => {
    expect(await page.locator('[data-count="unchanged"]').textContent()).toMatch(
      /^2 files, [\d.]+ (B|kB|MB)$/,
    );
    expect(await listTree(join(cloudDir(), 'Restored'))).toEqual([
      '2024/IMG_0001.jpg',
      '2024/IMG_0002.jpg',
    ]);
  });

  it('should word a form error with the field’s label and clear it once fixed', async () => {
    await page.goto(`${base}/#/tasks/new`);
    await page.getByRole('heading', { name: 'New backup task' }).waitFor();
    await page.getByRole('button', { name: 'Create task' }).click();
    const err = b.fieldError('name');
    expect(await err.textContent()).toBe('Name must not be empty');
    expect(await b.field('form.task-form', 'Name *').getAttribute('aria-invalid')).toBe('true');
    await b.shot('task-form-error');
    await b.field('form.task-form', 'Name *').fill('Some');
    expect(await err.isHidden()).toBe(true);
    expect(await b.field('form.task-form', 'Name *').getAttribute('aria-invalid')).toBeNull();
    // The time zone is picked from a list, the browser's own zone first chosen.
    const zone = b.field('form.task-form', 'Time zone');
    await b.field('form.task-form', 'Schedule').selectOption('daily');
    expect(await zone.evaluate((el) => el.tagName)).toBe('SELECT');
    await zone.selectOption('Europe/Paris');
  });

  it('should keep every wizard screen usable at 390 px and in dark mode', async () => {
    for (const scheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const width of [1100, 390]) {
        if (scheme === 'light' && width === 1100) continue; // taken above
        await page.setViewportSize({ width, height: 900 });
        await openWizard();
        const tag = `${width}-${scheme}`;
        await b.shot(`step-version-${tag}`);
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('button', { name: '2024', exact: true }).waitFor();
        await b.shot(`step-files-${tag}`);
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByLabel('Somewhere else').check();
        await page.getByLabel('Account', { exact: true }).selectOption({ label: 'Family cloud' });
        await b.shot(`step-destination-${tag}`);
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Review and confirm' }).waitFor();
        await b.shot(`step-review-${tag}`);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
