import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureWebBuild,
  openBrowser,
  shownText,
  signInAgent,
  signInThroughUi,
  signOutThroughUi,
  startAppWithoutUsers,
  type BrowserSession,
} from '../support/browser.js';
import { patternBytes, writeTree } from '../support/files.js';

/**
 * Sign-in in the browser, from a first start with no user: the admin is created through the UI,
 * adds a second user in Settings > Users, API tokens are shown once and revoked, wrong passwords
 * and ended sessions lead back to the sign-in screen, and the second user sees none of the
 * admin's clouds, tasks, runs or versions.
 */

const ADMIN = { username: 'admin', password: 'admin-password-1' };
const BOB = { username: 'bob', password: 'bob-password-1' };

describe('web UI in a browser: sign-in and users', () => {
  let app: Awaited<ReturnType<typeof startAppWithoutUsers>>;
  let base: string;
  let dir: string;
  let b: BrowserSession;
  let page: BrowserSession['page'];
  /** The admin's objects, which bob must not see. */
  const mine = { taskId: '', runId: '', versionId: '' };

  const login = (user: { username: string; password: string }) => signInAgent(app.server, user);

  beforeAll(async () => {
    ensureWebBuild();
    dir = await mkdtemp(join(tmpdir(), 'cbe-web-users-'));
    await writeTree(join(dir, 'source'), {
      'a.jpg': patternBytes(10_000, 1),
      'b/c.jpg': patternBytes(20_000, 2),
    });
    await mkdir(join(dir, 'target'), { recursive: true });
    // Three failed sign-ins lock a name for ten minutes (defaults: 5 and 15 minutes).
    app = await startAppWithoutUsers({
      env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '600' },
    });
    base = app.baseUrl;
    b = await openBrowser(base, { shotPrefix: 'users' });
    page = b.page;
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should ask for the admin user on first start and create it through the UI', async () => {
    await page.goto(`${base}/#/tasks`);
    await page.getByRole('heading', { name: 'Create the admin user' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/setup?next=%2Ftasks');
    expect(await page.getByRole('navigation', { name: 'Main' }).isHidden()).toBe(true);
    const form = 'form[aria-label="Create the admin user"]';
    await b.field(form, 'Username *').fill('the admin');
    await b.field(form, 'Password *').fill('short');
    await b.field(form, 'Confirm the password *').fill('other');
    await page.locator(form).getByRole('button', { name: 'Create the admin user' }).click();
    // Checked before sending, each problem next to its field.
    await expect(b.fieldError('username').textContent()).resolves.toMatch(/no spaces/);
    await expect(b.fieldError('password').textContent()).resolves.toBe(
      'Password must have at least 8 characters',
    );
    await expect(b.fieldError('confirm').textContent()).resolves.toBe(
      'Confirm the password: the two passwords differ',
    );
    await b.shot('setup-problems');
    await b.field(form, 'Username *').fill(ADMIN.username);
    await b.field(form, 'Password *').fill(ADMIN.password);
    await b.field(form, 'Confirm the password *').fill(ADMIN.password);
    await page.locator(form).getByRole('button', { name: 'Create the admin user' }).click();
    await page.getByRole('heading', { name: 'Backup tasks' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/tasks');
    await expect(page.locator('#account').textContent()).resolves.toMatch(
      /^Signed in as adminadmin\s*Sign out$/,
    );
    const session = await (await fetch(`${base}/api/auth/session`)).json();
    expect(session).toMatchObject({ setupRequired: false, user: null });
    // A second set-up is refused: there is an admin now.
    const again = await fetch(`${base}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'eve', password: 'eve-password-1' }),
    });
    expect(again.status).toBe(409);
  });

  it('should give the admin a cloud, a task, a run and a version', async () => {
    const admin = await login(ADMIN);
    const account = async (name: string, root: string) =>
      (
        (await admin.post('/api/accounts', { kind: 'local', name, options: { root } }).expect(201))
          .body as { id: string }
      ).id;
    const source = await account('Admin photos', join(dir, 'source'));
    const target = await account('Admin drive', join(dir, 'target'));
    mine.taskId = (
      (
        await admin
          .post('/api/tasks', {
            name: 'Admin backup',
            sourceAccountId: source,
            targetAccountId: target,
            targetPath: 'Backups',
          })
          .expect(201)
      ).body as { id: string }
    ).id;
    mine.runId = (
      (await admin.post(`/api/tasks/${mine.taskId}/run`).expect(202)).body as { id: string }
    ).id;
    let run: { status: string; versionId: string | null };
    const until = Date.now() + 30_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      run = (await admin.get(`/api/runs/${mine.runId}`).expect(200)).body as typeof run;
    } while ((run.status === 'queued' || run.status === 'running') && Date.now() < until);
    expect(run.status).toBe('completed');
    mine.versionId = run.versionId!;
    // The browser shows them to the admin.
    await page.goto(`${base}/#/accounts`);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Backup tasks' })
      .click();
    await page.locator(`[data-task="${mine.taskId}"]`).waitFor();
  });

  it('should add a user in Settings > Users, each problem next to its field', async () => {
    await page.goto(`${base}/#/settings`);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('heading', { name: 'Mail server (SMTP)' }).waitFor();
    const form = 'form[aria-label="Add a user"]';
    const add = page.locator(form).getByRole('button', { name: 'Add user' });
    await b.field(form, 'Username *').fill('bob smith');
    await b.field(form, 'Password *').fill('1234');
    await add.click();
    await expect(
      page.locator(`${form} [data-field="username"] > .field-error`).textContent(),
    ).resolves.toMatch(/^Username may have up to 64/);
    await expect(
      page.locator(`${form} [data-field="password"] > .field-error`).textContent(),
    ).resolves.toBe('Password must have at least 8 characters');
    // The server's answer: the name is taken.
    b.expectConsoleError(/status of 409/);
    await b.field(form, 'Username *').fill('admin');
    await b.field(form, 'Password *').fill(BOB.password);
    await add.click();
    await expect(
      shownText(page.locator(`${form} [data-field="username"] > .field-error`)),
    ).resolves.toBe("Username: 'admin' is taken");
    await b.shot('settings-users-problem');
    await b.field(form, 'Username *').fill(BOB.username);
    await b.field(form, 'Password *').fill(BOB.password);
    await b.field(form, 'Role').selectOption('user');
    await add.click();
    await page.getByRole('status').filter({ hasText: 'Added “bob”.' }).waitFor();
    const rows = page.getByRole('list', { name: 'Users' }).locator('li');
    await expect(rows.allTextContents()).resolves.toEqual([
      expect.stringMatching(/^admin\s*admin\s*\(you\)/),
      expect.stringMatching(/^bob\s*user/),
    ]);
    // No "Delete" for yourself.
    await expect(page.locator('[data-user="admin"] button').count()).resolves.toBe(0);
    await b.shot('settings-users');
  });

  it('should create an API token shown only once, and revoke it', async () => {
    const form = 'form[aria-label="New API token"]';
    await page.locator(form).getByRole('button', { name: 'Create token' }).click();
    await expect(
      page.locator(`${form} [data-field="name"] > .field-error`).textContent(),
    ).resolves.toBe('Name must not be empty');
    await b.field(form, 'Name *').fill('backup script');
    await page.locator(form).getByRole('button', { name: 'Create token' }).click();
    const value = page.getByLabel('New token', { exact: true });
    await value.waitFor();
    await expect(page.locator('.token-once .notice').textContent()).resolves.toContain(
      'it is shown only this once',
    );
    const token = await value.inputValue();
    expect(token.length).toBeGreaterThan(20);
    await b.shot('settings-token-created');
    const bearer = (t: string) =>
      fetch(`${base}/api/tasks`, { headers: { authorization: `Bearer ${t}` } });
    const asScript = await bearer(token);
    expect(asScript.status).toBe(200);
    expect(((await asScript.json()) as { id: string }[]).map((x) => x.id)).toEqual([mine.taskId]);
    // Drawn again, the settings list the token by name only.
    await page.reload();
    const tokens = page.getByRole('list', { name: 'API tokens' });
    await tokens.getByText('backup script').waitFor();
    expect(await page.getByLabel('New token', { exact: true }).count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain(token);
    await tokens.getByRole('button', { name: 'Revoke' }).click();
    await tokens.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked “backup script”.' }).waitFor();
    await tokens.getByText('No API tokens.').waitFor();
    expect((await bearer(token)).status).toBe(401);
  });

  it('should show the server’s message when the current password is wrong', async () => {
    const form = 'form[aria-label="Change password"]';
    b.expectConsoleError(/status of 400/);
    await b.field(form, 'Current password *').fill('not-my-password');
    await b.field(form, 'New password *').fill('admin-password-2');
    await b.field(form, 'Confirm the new password *').fill('admin-password-2');
    await page.locator(form).getByRole('button', { name: 'Change password' }).click();
    await expect(shownText(b.fieldError('currentPassword'))).resolves.toMatch(
      /^Current password is not your current password/,
    );
    await b.shot('settings-password-problem');
  });

  it('should sign out, and say so when the password is wrong', async () => {
    await signOutThroughUi(b);
    expect(new URL(page.url()).hash).toBe('#/sign-in');
    expect(await page.getByRole('navigation', { name: 'Main' }).isHidden()).toBe(true);
    expect(await page.locator('#account').isHidden()).toBe(true);
    // The cookie is gone with the session: the API answers 401 again.
    const status = await page.evaluate<number>("fetch('/api/tasks').then((r) => r.status)");
    expect(status).toBe(401);
    b.expectConsoleError(/status of 401/);
    b.expectConsoleError(/status of 401/);
    const form = 'form[aria-label="Sign in"]';
    await b.field(form, 'Username *').fill(ADMIN.username);
    await b.field(form, 'Password *').fill('wrong-password');
    await page.locator(form).getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator(`${form} .form-errors`);
    await expect(shownText(alert)).resolves.toBe('Wrong username or password');
    expect(await b.field(form, 'Password *').inputValue()).toBe('');
    expect(new URL(page.url()).hash).toBe('#/sign-in');
    await b.shot('sign-in-wrong-password');
  });

  it('should say how long to wait after too many failed attempts', async () => {
    b.allowConsoleErrors(/status of (401|429).*\/api\/auth\/login/);
    const form = 'form[aria-label="Sign in"]';
    const statuses: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await b.field(form, 'Username *').fill('mallory');
      await b.field(form, 'Password *').fill(`guess-number-${i}`);
      await page.locator(form).getByRole('button', { name: 'Sign in' }).click();
      statuses.push((await answered).status());
    }
    expect(statuses).toEqual([401, 401, 429]);
    // The lock's seconds from Retry-After (600 at the last failure, a second less by now).
    const text = await shownText(page.locator(`${form} .form-errors`));
    const seconds = Number(/^Too many failed attempts, try again in (\d+) s\.$/.exec(text)?.[1]);
    expect([text, seconds > 590 && seconds <= 600]).toEqual([text, true]);
    await b.shot('sign-in-too-many-attempts');
  });

  it('should show the second user none of the admin’s clouds, tasks, runs or versions', async () => {
    await signInThroughUi(b, base, BOB, '/accounts');
    await page.getByText('No clouds yet: add one below.').waitFor();
    await expect(page.locator('#account').textContent()).resolves.toMatch(
      /^Signed in as bob\s*Sign out$/,
    );
    await b.shot('second-user-clouds');
    await page.goto(`${base}/#/tasks`);
    await page.getByText('No backup tasks yet.').waitFor();
    await page.goto(`${base}/#/runs`);
    await page.getByText('No runs yet.').waitFor();
    await b.shot('second-user-runs');
    // The admin's task, run and version by their ids: not found for bob.
    b.allowConsoleErrors(/status of 404/);
    await page.goto(`${base}/#/tasks/${mine.taskId}/versions`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not found|no task/i);
    await page.goto(`${base}/#/runs/${mine.runId}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    const bob = await login(BOB);
    for (const path of ['/api/accounts', '/api/tasks', '/api/runs'])
      expect([path, (await bob.get(path).expect(200)).body]).toEqual([path, []]);
    await bob.get(`/api/tasks/${mine.taskId}`).expect(404);
    await bob.get(`/api/runs/${mine.runId}`).expect(404);
    await bob.get(`/api/versions/${mine.versionId}`).expect(404);
    await bob.get(`/api/tasks/${mine.taskId}/versions`).expect(404);
    // Settings: their password and tokens; no users, no mail server.
    await page.goto(`${base}/#/settings`);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    expect(await page.locator('main h2').allTextContents()).toEqual([
      'Change password',
      'API tokens',
    ]);
    await bob.get('/api/settings/smtp').expect(403);
    await bob.get('/api/users').expect(403);
    await b.shot('second-user-settings');
  });

  it('should change the password, and sign in with the new one', async () => {
    const form = 'form[aria-label="Change password"]';
    await b.field(form, 'Current password *').fill(BOB.password);
    await b.field(form, 'New password *').fill('bob-password-2');
    await b.field(form, 'Confirm the new password *').fill('bob-password-3');
    await page.locator(form).getByRole('button', { name: 'Change password' }).click();
    await expect(b.fieldError('confirm').textContent()).resolves.toBe(
      'Confirm the new password: the two passwords differ',
    );
    await b.field(form, 'Confirm the new password *').fill('bob-password-2');
    await page.locator(form).getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    await signOutThroughUi(b);
    BOB.password = 'bob-password-2';
    await signInThroughUi(b, base, BOB, '/settings');
  });

  it('should go back to the sign-in screen when the session ends, and return afterwards', async () => {
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await b.context.clearCookies();
    b.allowConsoleErrors(/status of 401 .*\/api\/(runs|tasks)/);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Runs' })
      .click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/sign-in?next=%2Fruns');
    expect(await page.locator('#account').isHidden()).toBe(true);
    const form = 'form[aria-label="Sign in"]';
    // Keyboard only: the username has the focus, Tab reaches the password and the button.
    await page.keyboard.type(BOB.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(BOB.password);
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>("document.activeElement?.textContent ?? ''")).toBe(
      'Sign in',
    );
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.hash === '#/runs');
    await page.getByText('No runs yet.').waitFor();
    expect(await page.locator(`${form}`).count()).toBe(0);
  });

  it('should take the new CSRF token after signing in again in another tab', async () => {
    await page.goto(`${base}/#/settings`);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    // The other tab shares the cookie: it signs out and in again, so the session changes.
    const other = await b.context.newPage();
    await other.goto(`${base}/#/accounts`);
    await other.locator('#account').getByRole('button', { name: 'Sign out' }).click();
    await other.getByLabel('Username', { exact: false }).fill(BOB.username);
    await other.getByLabel('Password', { exact: false }).fill(BOB.password);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Clouds' }).waitFor();
    await other.close();
    // This tab's token belongs to the ended session: refused once, then taken afresh.
    b.expectConsoleError(/status of 403/);
    const form = 'form[aria-label="New API token"]';
    await b.field(form, 'Name *').fill('second tab');
    await page.locator(form).getByRole('button', { name: 'Create token' }).click();
    await expect(shownText(page.locator(`${form} .form-errors`))).resolves.toBe(
      'You signed in again in another tab: try once more',
    );
    await page.locator(form).getByRole('button', { name: 'Create token' }).click();
    await page.getByLabel('New token', { exact: true }).waitFor();
    await page.getByRole('list', { name: 'API tokens' }).getByText('second tab').waitFor();
  });

  it('should fit the sign-in screens and the settings in 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.goto(`${base}/#/settings`);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBe(360);
    await b.shot('phone-settings');
    await signOutThroughUi(b);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBe(360);
    await b.shot('phone-sign-in');
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  it('should leave no error in the browser console', () => {
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
