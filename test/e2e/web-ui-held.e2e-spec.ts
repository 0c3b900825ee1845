import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN,
  ensureWebBuild,
  openBrowser,
  signInThroughUi,
  type BrowserSession,
} from '../support/browser.js';
import { patternBytes, writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

interface VersionView {
  id: string;
  seq: number;
  status: string;
}

/**
 * Held versions (issue 18's deletion guard) decided in the page: an emptied source makes a held
 * version; the overview and the version list offer to approve or discard it, and the
 * confirmation says what will happen (from the prune preview) before the API is asked.
 */
describe('web UI in a browser: held versions', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let b: BrowserSession;
  let page: BrowserSession['page'];
  const ids: Record<string, string> = {};

  const post = async <T>(path: string, body: object, status = 201): Promise<T> =>
    (await t.http.post(path).send(body).expect(status)).body as T;

  async function settle(taskId: string): Promise<void> {
    for (;;) {
      const runs = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as {
        status: string;
      }[];
      if (!runs.some((r) => r.status === 'queued' || r.status === 'running')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function backup(taskId: string): Promise<string> {
    const run = await post<{ id: string }>(`/api/tasks/${taskId}/run`, {}, 202);
    const done = await waitForRun(t.http, run.id);
    await settle(taskId);
    return done.status;
  }

  const versions = async (taskId: string) =>
    ((await t.http.get(`/api/tasks/${taskId}/versions`).expect(200)).body as VersionView[]).sort(
      (a, c) => a.seq - c.seq,
    );

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-held-'));
    const album = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`${i}.jpg`, patternBytes(4000, i + 1)]),
    );
    await writeTree(join(dir, 'album'), album);
    await writeTree(join(dir, 'notes'), {
      'a.txt': Buffer.from('alpha\n'),
      'b.txt': Buffer.from('bravo\n'),
    });
    await writeTree(join(dir, 'dst'), { '.keep': Buffer.from('') });
    t = await startTestApp({ listen: 0 });
    base = t.baseUrl!;
    const account = async (name: string, root: string) =>
      (await post<{ id: string }>('/api/accounts', { kind: 'local', name, options: { root } })).id;
    const dst = await account('Backup disk', join(dir, 'dst'));
    for (const name of ['album', 'notes']) {
      ids[name] = (
        await post<{ id: string }>('/api/tasks', {
          name: name === 'album' ? 'Album' : 'Notes',
          sourceAccountId: await account(`${name} folder`, join(dir, name)),
          targetAccountId: dst,
          targetPath: name,
        })
      ).id;
    }
    // The album keeps one version: approving its held version lets that policy prune again.
    await t.http.put(`/api/tasks/${ids.album}/retention`).send({ keepLast: 1 }).expect(200);
    for (const name of ['album', 'notes']) {
      expect(await backup(ids[name]!)).toBe('completed');
      // The source is emptied (an unmounted drive, a wiped folder): the next version is held.
      for (const f of await readdir(join(dir, name)))
        if (!f.startsWith('.')) await rm(join(dir, name, f));
      expect(await backup(ids[name]!)).toBe('warning');
      expect((await versions(ids[name]!)).map((v) => v.status)).toEqual(['complete', 'held']);
    }
    b = await openBrowser(base, { shotPrefix: 'held' });
    page = b.page;
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should approve a held version from the overview after saying what the clean-up removes', async () => {
    await signInThroughUi(b, base, ADMIN, '/dashboard');
    const card = page.locator(`li[data-task="${ids.album}"]`);
    await card.locator('[data-fact="held"]').waitFor();
    await card.getByRole('button', { name: 'Approve version 2 of “Album”' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve version 2 of “Album”?' });
    await dialog.waitFor();
    // What approving does, from the prune preview: the policy keeps 1 version, so version 1
    // and its 25 files go.
    await dialog.locator('[data-preview="ready"]').waitFor();
    expect(await dialog.locator('[data-preview]').textContent()).toBe(
      'The task keeps the last 1 version: the clean-up that follows removes 1 version (version 1) and 25 files (100 kB).',
    );
    await b.shot('approve-dialog');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await b.shot('approve-dialog-390-dark');
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    // Cancel first: nothing changes.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await versions(ids.album!)).map((v) => v.status)).toEqual(['complete', 'held']);
    await card.getByRole('button', { name: 'Approve version 2 of “Album”' }).click();
    await dialog.locator('[data-preview="ready"]').waitFor();
    await dialog.getByRole('button', { name: 'Approve version 2' }).click();
    await page.getByRole('status').filter({ hasText: 'Version 2 of “Album” approved.' }).waitFor();
    await settle(ids.album!);
    // Approved, and the policy it froze applied: version 1 pruned.
    expect((await versions(ids.album!)).map((v) => [v.seq, v.status])).toEqual([[2, 'complete']]);
    await card.locator('[data-fact="held"]').waitFor({ state: 'detached' });
    // A version that is not held has nothing to preview: 409 naming its state.
    const v2 = (await versions(ids.album!))[0]!;
    const refused = await t.http.get(`/api/versions/${v2.id}/approve/preview`).expect(409);
    expect(JSON.stringify(refused.body)).toContain('version 2 is complete, not held');
  });

  it('should discard a held version from the version list', async () => {
    await page.goto(`${base}/#/tasks/${ids.notes}/versions`);
    const held = page.locator('ol[aria-label="Versions"] li.version-held');
    await held.waitFor();
    await b.shot('versions-held');
    await held.getByRole('button', { name: 'Discard version 2 of “Notes”' }).click();
    const dialog = page.getByRole('dialog', { name: 'Discard version 2 of “Notes”?' });
    await dialog.locator('[data-preview="ready"]').waitFor();
    expect(await dialog.textContent()).toContain(
      'Version 2 (0 files) is set aside and the next backup compares with version 1. Version 1 and its 2 files stay.',
    );
    await b.shot('discard-dialog');
    await dialog.getByRole('button', { name: 'Discard version 2' }).click();
    await page.getByRole('status').filter({ hasText: 'Version 2 of “Notes” discarded.' }).waitFor();
    expect((await versions(ids.notes!)).map((v) => [v.seq, v.status])).toEqual([
      [1, 'complete'],
      [2, 'discarded'],
    ]);
    // The list shows it as discarded, with nothing left to decide.
    await page
      .locator('ol[aria-label="Versions"] li.version-discarded')
      .waitFor({ timeout: 10_000 });
    expect(await page.getByRole('button', { name: /^Discard version/ }).count()).toBe(0);
    // It cannot be chosen to restore from: version 1 is chosen instead.
    expect(
      await page
        .locator('ol[aria-label="Versions"] li.version-discarded button.version')
        .isDisabled(),
    ).toBe(true);
    expect(
      await page.locator('button.version[aria-pressed="true"]').getAttribute('data-version'),
    ).toBe((await versions(ids.notes!))[0]!.id);
    await b.shot('versions-discarded');
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
