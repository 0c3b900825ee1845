import type { Server } from 'node:http';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../emulators/dropbox/dropbox-emulator.js';
import {
  ADMIN,
  ensureWebBuild,
  openBrowser,
  signInAgent,
  signInThroughUi,
  type BrowserSession,
  type SignedInAgent,
} from '../support/browser.js';
import { freeLoopbackPort } from '../servers/free-port.js';
import { startICloudPhotos, type ICloudPhotosCloud } from '../support/cloud-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The browser app connecting clouds that need more than a form: the iCloud six-digit code prompt
 * and an OAuth consent page (Dropbox), against the emulators, after signing in through the UI.
 */
describe('web UI in a browser: connecting clouds', () => {
  let t: TestApp;
  let base: string;
  let dropbox: DropboxEmulator;
  let icloud: ICloudPhotosCloud;
  let b: BrowserSession;
  let admin: SignedInAgent;

  async function api<T>(path: string): Promise<T> {
    const res = await admin.get(path).expect(200);
    return res.body as T;
  }

  beforeAll(async () => {
    ensureWebBuild();
    dropbox = await startDropboxEmulator();
    icloud = await startICloudPhotos();
    // The consent flow's callback comes back to PUBLIC_URL, so the port is known up front.
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      listen: port,
      env: {
        PUBLIC_URL: base,
        DROPBOX_APP_KEY: dropbox.credentials.clientId,
        DROPBOX_APP_SECRET: dropbox.credentials.clientSecret,
      },
    });
    admin = await signInAgent(t.app.getHttpServer() as Server, ADMIN);
    b = await openBrowser(base, { shotPrefix: 'clouds' });
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
    await dropbox?.stop();
    await icloud?.stop();
  });

  it('should sign in through the sign-in screen and land on the clouds', async () => {
    await signInThroughUi(b, base, ADMIN, '/accounts');
    await b.page.getByRole('heading', { name: 'Clouds' }).waitFor();
  });

  it('should sign in to iCloud Photos with the six-digit code', async () => {
    await b.page.goto(`${base}/#/accounts`);
    await b.page.getByLabel('Kind of cloud').selectOption('icloud-photos');
    const form = 'form[aria-label="Sign in to iCloud"]';
    await b.field(form, 'Name *').fill('Family photos');
    await b.field(form, 'Apple ID *').fill(icloud.emulator.credentials.appleId);
    await b.field(form, 'Password *').fill(icloud.emulator.credentials.password);
    await b.page.locator(form).getByText('Advanced options').click();
    for (const [key, value] of Object.entries(icloud.options))
      await b.page.locator(`${form} [data-field="options.${key}"] input`).fill(String(value));
    await b.page.locator(form).getByRole('button', { name: 'Sign in' }).click();
    // The account is listed as awaiting its code, with the prompt in its card, focused.
    const card = b.page.locator('li.card', { hasText: 'Family photos' });
    await card.getByText('Awaiting code').waitFor();
    const prompt = card.locator('form.code-prompt');
    await expect(b.page.locator('form.code-prompt').count()).resolves.toBe(1);
    await b.page.locator('input.code:focus').waitFor();
    await prompt.getByLabel('Verification code *').fill('12');
    await prompt.getByRole('button', { name: 'Confirm code' }).click();
    await expect(b.fieldError('code').textContent()).resolves.toBe(
      'Verification code must be the 6-digit verification code',
    );
    await b.shot('icloud-code-prompt');
    const code = icloud.emulator.control.lastSecurityCode();
    expect(code).toMatch(/^\d{6}$/);
    await prompt.getByLabel('Verification code *').fill(code!);
    await prompt.getByRole('button', { name: 'Confirm code' }).click();
    await b.page.getByRole('status').filter({ hasText: 'Signed in to “Family photos”.' }).waitFor();
    await b.page.locator('li.card', { hasText: 'Family photos' }).getByText('Connected').waitFor();
    const accounts = await api<{ name: string; kind: string; state: string }[]>('/api/accounts');
    expect(accounts.find((a) => a.name === 'Family photos')).toMatchObject({
      kind: 'icloud-photos',
      state: 'connected',
    });
  });

  it('should connect Dropbox through the consent page and come back connected', async () => {
    await b.page.goto(`${base}/#/accounts`);
    await b.page.getByLabel('Kind of cloud').selectOption('dropbox');
    const form = 'form[aria-label="Add Dropbox"]';
    await b.field(form, 'Name *').fill('My Dropbox');
    await b.page.locator(form).getByText('Advanced options').click();
    const hosts = {
      apiBaseUrl: dropbox.hosts.api,
      contentBaseUrl: dropbox.hosts.content,
      notifyBaseUrl: dropbox.hosts.notify,
      authorizeBaseUrl: dropbox.hosts.www,
    };
    for (const [key, value] of Object.entries(hosts))
      await b.page.locator(`${form} [data-field="options.${key}"] input`).fill(value);
    await b.shot('dropbox-connect-form');
    await b.page.locator(form).getByRole('button', { name: 'Connect with Dropbox' }).click();
    // The emulator's consent page, then back through the callback.
    const allow = b.page.locator('a#allow');
    await allow.waitFor();
    expect(b.page.url().startsWith(dropbox.hosts.www)).toBe(true);
    await allow.click();
    await b.page.waitForURL(/\/#\/accounts\?connected=[0-9a-f-]{36}$/);
    await b.page.getByRole('status').filter({ hasText: 'Connected “My Dropbox”.' }).waitFor();
    const id = /connected=(.+)$/.exec(b.page.url())![1]!;
    await b.page.locator(`[data-account="${id}"]`).getByText('Connected').waitFor();
    await b.page
      .locator(`[data-account="${id}"]`)
      .getByRole('button', { name: 'Sign in to “My Dropbox” again' })
      .waitFor();
    const account = await api<{ kind: string; name: string; state: string }>(`/api/accounts/${id}`);
    expect(account).toMatchObject({ kind: 'dropbox', name: 'My Dropbox', state: 'connected' });
    await b.shot('accounts-connected');
  });

  it('should leave no error in the browser console', () => {
    expect(b.unexpectedConsoleErrors()).toEqual([]);
  });
});
