import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccountsRepository } from '../../src/accounts/accounts.repository.js';
import { SecretVault } from '../../src/accounts/secret-vault.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../emulators/dropbox/dropbox-emulator.js';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../emulators/google-drive/google-drive.emulator.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../../emulators/onedrive/onedrive-emulator.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../emulators/icloud-photos/icloud-photos.emulator.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The app believes it is reachable here; the browser below maps that origin to the test server. */
const PUBLIC_URL = 'http://cbe.test:8123';
const CALLBACK = `${PUBLIC_URL}/api/accounts/oauth/callback`;

/** One OAuth cloud under test: its emulator, the env that names the OAuth app, the options. */
interface OAuthCloud {
  kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  env(): Record<string, string>;
  /** The OAuth app secret, which must never show in an API answer. */
  appSecret(): string;
  /** Options the emulator needs (its host URLs); the app credentials come from env. */
  options(): Record<string, unknown>;
  /** Puts a folder in the cloud account that browsing the root must show. */
  seedFolder(name: string): Promise<void>;
  /** Makes the stored tokens useless, so only a re-authentication helps. */
  revokeTokens(): void;
  /** Access tokens expire: the next call must refresh (with the app secret for confidential apps). */
  expireAccessTokens(): void;
}

let dropbox: DropboxEmulator;
let drive: GoogleDriveEmulator;
let onedrive: OneDriveEmulator;
const CLOUDS: OAuthCloud[] = [
  {
    kind: 'dropbox',
    start: async () => {
      dropbox = await startDropboxEmulator();
    },
    stop: () => dropbox.stop(),
    env: () => ({
      DROPBOX_APP_KEY: dropbox.credentials.clientId,
      DROPBOX_APP_SECRET: dropbox.credentials.clientSecret,
    }),
    appSecret: () => dropbox.credentials.clientSecret,
    options: () => ({
      apiBaseUrl: dropbox.hosts.api,
      contentBaseUrl: dropbox.hosts.content,
      notifyBaseUrl: dropbox.hosts.notify,
      authorizeBaseUrl: dropbox.hosts.www,
    }),
    seedFolder: async (name) => {
      await dropbox.seedFile(`/${name}/IMG_0001.JPG`, Buffer.alloc(1000, 7));
    },
    revokeTokens: () => {
      dropbox.control.revokeRefreshTokens();
      dropbox.control.expireAccessTokens();
    },
    expireAccessTokens: () => dropbox.control.expireAccessTokens(),
  },
  {
    kind: 'google-drive',
    start: async () => {
      drive = await startGoogleDriveEmulator({ fixtures: false });
    },
    stop: () => drive.stop(),
    env: () => ({
      GOOGLE_DRIVE_CLIENT_ID: drive.credentials.clientId,
      GOOGLE_DRIVE_CLIENT_SECRET: drive.credentials.clientSecret,
    }),
    appSecret: () => drive.credentials.clientSecret,
    options: () => ({
      apiBaseUrl: drive.credentials.apiBaseUrl,
      tokenUrl: drive.credentials.tokenUrl,
      authorizeUrl: drive.credentials.authorizeUrl,
      revokeUrl: drive.credentials.revokeUrl,
    }),
    seedFolder: async (name) => {
      drive.seed.folder(name);
      await Promise.resolve();
    },
    revokeTokens: () => {
      drive.control.revokeRefreshTokens();
      drive.control.expireTokens();
    },
    expireAccessTokens: () => drive.control.expireTokens(),
  },
  {
    kind: 'onedrive',
    start: async () => {
      // A confidential app registration: refreshing later needs the secret kept in the vault.
      onedrive = await startOneDriveEmulator({
        clientSecret: 'onedrive-app-secret',
        redirectUris: [CALLBACK],
      });
    },
    stop: () => onedrive.stop(),
    env: () => ({
      ONEDRIVE_CLIENT_ID: onedrive.credentials.clientId,
      ONEDRIVE_CLIENT_SECRET: onedrive.credentials.clientSecret!,
      ONEDRIVE_TENANT: 'consumers',
    }),
    appSecret: () => onedrive.credentials.clientSecret!,
    options: () => ({ graphBaseUrl: onedrive.baseUrl, authorityBaseUrl: onedrive.baseUrl }),
    seedFolder: async (name) => {
      await onedrive.seed.folder(name);
    },
    revokeTokens: () => {
      onedrive.control.revokeRefreshTokens();
      onedrive.control.expireToken();
    },
    expireAccessTokens: () => onedrive.control.expireToken(),
  },
];

/** A browser's view of a consent page: follows the Allow (or Deny) link to the redirect. */
async function consent(authorizeUrl: string, choice: 'allow' | 'deny'): Promise<string> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  expect(page.status).toBe(200);
  const m = new RegExp(`<a id="${choice}" href="([^"]+)"`).exec(html);
  if (!m) throw new Error(`no ${choice} link on the consent page: ${html.slice(0, 300)}`);
  const href = new URL(decodeEntities(m[1]!), authorizeUrl);
  // Some consent pages link straight back to the app (Google's Deny).
  if (href.toString().startsWith(`${CALLBACK}?`)) return `${href.pathname}${href.search}`;
  const decided = await fetch(href, { redirect: 'manual' });
  expect(decided.status).toBe(302);
  const location = decided.headers.get('location')!;
  expect(location.startsWith(`${CALLBACK}?`)).toBe(true);
  const u = new URL(location);
  return `${u.pathname}${u.search}`;
}

/** What a browser does to an href attribute: named and numeric character references. */
function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X'))
      return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return named[e.toLowerCase()] ?? all;
  });
}

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'] as string[] | undefined;
  const c = raw?.find((s) => s.startsWith('cbe_oauth='));
  if (!c) throw new Error('no cbe_oauth cookie was set');
  return c.split(';')[0]!;
}

/** Every byte of the SQLite database, WAL included (recent writes live there first). */
async function databaseBytes(dataDir: string): Promise<Buffer> {
  const names = (await readdir(dataDir)).filter((n) => n.startsWith('backup.sqlite'));
  return Buffer.concat(await Promise.all(names.map((n) => readFile(join(dataDir, n)))));
}

async function storedSecrets(t: TestApp, id: string): Promise<Record<string, string>> {
  const entity = await t.app.get(AccountsRepository).findById(id);
  return t.app.get(SecretVault).open(entity!.sealedSecrets!);
}

describe.each(CLOUDS.map((c) => [c.kind, c] as const))(
  'connecting a %s account through OAuth',
  (kind, cloud) => {
    let t: TestApp;
    const responses: string[] = [];

    beforeAll(async () => {
      await cloud.start();
      t = await startTestApp({ env: { PUBLIC_URL, ...cloud.env() } });
      await cloud.seedFolder('Camera Uploads');
    });

    afterAll(async () => {
      await t?.close();
      await cloud.stop();
    });

    /** The browser coming back from the consent page: its session cookie, and the flow's. */
    const cb = (path: string, oauthCookie?: string, session = t.sessionCookie) =>
      t.anon.get(path).set('Cookie', [oauthCookie, session].filter(Boolean).join('; '));

    async function startFlow(name = 'My cloud') {
      const res = await t.http
        .post('/api/accounts/connect')
        .send({ kind, name, options: cloud.options() });
      expect([res.status, res.body.message]).toEqual([200, undefined]);
      responses.push(JSON.stringify(res.body));
      const authorizeUrl = (res.body as { authorizeUrl: string }).authorizeUrl;
      const state = new URL(authorizeUrl).searchParams.get('state');
      return { authorizeUrl, state, cookie: cookieOf(res), setCookie: res.headers['set-cookie'] };
    }

    let accountId: string;
    let callbackPath: string;
    let cookie: string;

    it('should set an HttpOnly SameSite=Lax cookie and a random state when a flow starts', async () => {
      const a = await startFlow();
      const b = await startFlow();
      expect(String(a.setCookie)).toMatch(/HttpOnly/);
      expect(String(a.setCookie)).toMatch(/SameSite=Lax/);
      expect(a.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(a.state).not.toBe(b.state);
      expect(a.cookie).not.toBe(b.cookie);
      const u = new URL(a.authorizeUrl);
      expect(u.searchParams.get('redirect_uri')).toBe(CALLBACK);
      expect(u.searchParams.get('code_challenge_method')).toBe('S256');
      // The nonce is not the state: a leaked callback URL alone cannot finish someone's flow.
      expect(a.cookie).not.toContain(a.state!);
    });

    it('should create a connected account when the user allows on the consent page', async () => {
      const flow = await startFlow('My cloud');
      cookie = flow.cookie;
      callbackPath = await consent(flow.authorizeUrl, 'allow');
      const res = await cb(callbackPath, cookie).expect(302);
      const m = /^\/#\/accounts\?connected=([0-9a-f-]{36})$/.exec(res.headers.location as string);
      expect(m).not.toBeNull();
      accountId = m![1]!;
      const account = await t.http.get(`/api/accounts/${accountId}`).expect(200);
      responses.push(JSON.stringify(account.body));
      expect(account.body).toMatchObject({ kind, name: 'My cloud', state: 'connected' });
      expect(account.body.options.clientSecret).toBe('********');
      const list = await t.http.get('/api/accounts').expect(200);
      responses.push(JSON.stringify(list.body));
      expect(list.body).toHaveLength(1);
    });

    it('should keep the tokens out of every API answer and out of the database file', async () => {
      const secrets = await storedSecrets(t, accountId);
      expect(secrets.refreshToken).toEqual(expect.any(String));
      expect(secrets.refreshToken!.length).toBeGreaterThan(20);
      for (const body of responses) {
        expect(body).not.toContain(secrets.refreshToken);
        expect(body).not.toContain(secrets.accessToken);
        expect(body).not.toContain(cloud.appSecret());
      }
      const db = await databaseBytes(t.dataDir);
      expect(db.length).toBeGreaterThan(0);
      expect(db.includes(secrets.refreshToken!)).toBe(false);
      expect(db.includes(secrets.accessToken!)).toBe(false);
    });

    it('should list the cloud account through the stored tokens', async () => {
      const res = await t.http.get(`/api/accounts/${accountId}/browse`).expect(200);
      expect(res.body).toEqual([
        expect.objectContaining({ name: 'Camera Uploads', kind: 'folder' }),
      ]);
    });

    it('should refresh the access token with the stored app secret when it expires', async () => {
      const before = await storedSecrets(t, accountId);
      expect(before.clientSecret).toBe(cloud.appSecret());
      cloud.expireAccessTokens();
      await t.http.get(`/api/accounts/${accountId}/browse`).expect(200);
      const after = await storedSecrets(t, accountId);
      expect(after.accessToken).not.toBe(before.accessToken);
      // Microsoft rotates refresh tokens on use; the others keep theirs. Either way one is kept.
      expect(after.refreshToken).toEqual(expect.any(String));
      expect(after.clientSecret).toBe(cloud.appSecret());
    });

    it('should answer 400 when the same state comes back a second time', async () => {
      const res = await cb(callbackPath, cookie).expect(400);
      expect(res.body.message).toMatch(/already used/);
      expect(await t.http.get('/api/accounts').then((r) => r.body)).toHaveLength(1);
    });

    it('should answer 400 when the cookie belongs to another flow', async () => {
      const mine = await startFlow();
      const theirs = await startFlow();
      const path = await consent(theirs.authorizeUrl, 'allow');
      const res = await cb(path, mine.cookie).expect(400);
      expect(res.body.message).toMatch(/does not belong to this browser session/);
    });

    it('should answer 400 when another signed-in user brings the flow back', async () => {
      await t.http
        .post('/api/users')
        .send({ username: `mallory-${kind}`, password: 'mallory-password', role: 'user' })
        .expect(201);
      await t.signIn(`mallory-${kind}`, 'mallory-password');
      const mallory = t.lastSessionCookie();
      const flow = await startFlow();
      const path = await consent(flow.authorizeUrl, 'allow');
      const res = await cb(path, flow.cookie, mallory).expect(400);
      expect(res.body.message).toMatch(/belongs to another signed-in user/);
      // And without any session, the callback is refused outright.
      await t.anon.get(path).set('Cookie', flow.cookie).expect(401);
    });

    it('should answer 400 when the cookie is missing', async () => {
      const flow = await startFlow();
      const path = await consent(flow.authorizeUrl, 'allow');
      const res = await cb(path).expect(400);
      expect(res.body.message).toMatch(/cbe_oauth cookie is missing/);
    });

    it('should answer 400 when the state is unknown or absent', async () => {
      const unknown = await cb('/api/accounts/oauth/callback?code=abc&state=forged', cookie).expect(
        400,
      );
      expect(unknown.body.message).toMatch(/unknown OAuth state/);
      const none = await cb('/api/accounts/oauth/callback?code=abc').expect(400);
      expect(none.body.message).toMatch(/no state parameter/);
    });

    it("should answer 400 with the provider's words when the user denies access", async () => {
      const flow = await startFlow();
      const path = await consent(flow.authorizeUrl, 'deny');
      const res = await cb(path, flow.cookie).expect(400);
      expect(res.body.message).toMatch(/did not grant access \(access_denied/);
    });

    it('should answer 400 with invalid_grant when the provider refuses the code', async () => {
      const flow = await startFlow();
      const path = await consent(flow.authorizeUrl, 'allow');
      const forged = path.replace(/code=[^&]+/, 'code=not-a-real-code');
      const res = await cb(forged, flow.cookie).expect(400);
      expect(res.body.message).toMatch(/invalid_grant/);
      expect(await t.http.get('/api/accounts').then((r) => r.body)).toHaveLength(1);
    });

    it('should answer JSON when the callback is asked for JSON', async () => {
      const flow = await startFlow('Second');
      const path = await consent(flow.authorizeUrl, 'allow');
      const res = await cb(path, flow.cookie).set('Accept', 'application/json').expect(200);
      expect(res.body.account).toMatchObject({ kind, name: 'Second', state: 'connected' });
      await t.http.delete(`/api/accounts/${res.body.account.id}`).expect(204);
    });

    it('should re-authenticate the same account through GET /:kind/authorize', async () => {
      const before = await storedSecrets(t, accountId);
      cloud.revokeTokens();
      await t.http.get(`/api/accounts/${accountId}/browse`).expect(409);
      const start = await t.http
        .get(`/api/accounts/${kind}/authorize?accountId=${accountId}`)
        .expect(302);
      const authorizeUrl = start.headers.location as string;
      expect(new URL(authorizeUrl).searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const path = await consent(authorizeUrl, 'allow');
      const res = await cb(path, cookieOf(start)).expect(302);
      expect(res.headers.location).toBe(`/#/accounts?connected=${accountId}`);
      const after = await storedSecrets(t, accountId);
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(after.clientSecret).toBe(before.clientSecret);
      const browse = await t.http.get(`/api/accounts/${accountId}/browse`).expect(200);
      expect(browse.body.map((e: { name: string }) => e.name)).toEqual(['Camera Uploads']);
      const account = await t.http.get(`/api/accounts/${accountId}`).expect(200);
      expect(account.body).toMatchObject({ name: 'My cloud', state: 'connected' });
    });
  },
);

describe('starting an OAuth connection', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('should answer 400 naming the variable when no OAuth app is configured', async () => {
    const res = await t.http
      .post('/api/accounts/connect')
      .send({ kind: 'dropbox', name: 'x' })
      .expect(400);
    expect(res.body.message).toMatch(/set DROPBOX_APP_KEY or pass options\.clientId/);
  });

  it('should list the connect routes in the OpenAPI document', async () => {
    const res = await t.http.get('/api/docs/openapi.json').expect(200);
    expect(Object.keys(res.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/api/accounts/connect',
        '/api/accounts/{kind}/authorize',
        '/api/accounts/oauth/callback',
        '/api/accounts/icloud/sign-in',
        '/api/accounts/{id}/icloud/code',
        '/api/accounts/{id}/icloud/request-code',
      ]),
    );
  });

  it('should answer 400 when the kind does not connect through OAuth', async () => {
    const local = await t.http
      .post('/api/accounts/connect')
      .send({ kind: 'local', name: 'x' })
      .expect(400);
    expect(local.body.message).toMatch(/not connected through OAuth/);
    const icloud = await t.http
      .post('/api/accounts/connect')
      .send({ kind: 'icloud-photos', name: 'x' })
      .expect(400);
    expect(icloud.body.message).toMatch(/icloud\/sign-in/);
  });
});

describe('connecting an iCloud Photos account', () => {
  let t: TestApp;
  let icloud: ICloudPhotosEmulator;
  let accountId: string;
  const options = () => ({ authBaseUrl: icloud.authBaseUrl, setupBaseUrl: icloud.setupBaseUrl });
  const count = (label: string) => icloud.requestLog.counts()[label] ?? 0;
  const PUT_CODE = 'idmsa PUT /verify/trusteddevice/securitycode';
  const POST_CODE = 'idmsa POST /verify/trusteddevice/securitycode';

  beforeAll(async () => {
    icloud = await startICloudPhotosEmulator({ librarySize: 12, codeAttemptLimit: 3 });
    t = await startTestApp({ env: { PUBLIC_URL } });
  });

  afterAll(async () => {
    await t?.close();
    await icloud?.stop();
  });

  const signIn = (body: Record<string, unknown>) =>
    t.http.post('/api/accounts/icloud/sign-in').send({ options: options(), ...body });

  it('should answer 400 naming the password when it is wrong, and create nothing', async () => {
    const res = await signIn({
      name: 'Photos',
      appleId: icloud.credentials.appleId,
      password: 'not the password',
    }).expect(400);
    expect(res.body.message).toMatch(/password is incorrect/);
    expect(await t.http.get('/api/accounts').then((r) => r.body)).toHaveLength(0);
  });

  it('should ask for a code when Apple wants a second factor', async () => {
    const puts = count(PUT_CODE);
    const res = await signIn({
      name: 'Photos',
      appleId: icloud.credentials.appleId,
      password: icloud.credentials.password,
    }).expect(200);
    expect(res.body.state).toBe('needs-code');
    expect(res.body.account).toMatchObject({ kind: 'icloud-photos', state: 'awaiting-code' });
    expect(JSON.stringify(res.body)).not.toContain(icloud.credentials.password);
    // Apple shows no code unless asked for one.
    expect(count(PUT_CODE)).toBe(puts + 1);
    accountId = res.body.account.id;
  });

  it('should answer 400 when the code is wrong, and stay waiting', async () => {
    const real = icloud.control.lastSecurityCode()!;
    const wrong = real === '111111' ? '222222' : '111111';
    const res = await t.http
      .post(`/api/accounts/${accountId}/icloud/code`)
      .send({ code: wrong })
      .expect(400);
    expect(res.body.message).toMatch(/verification code is incorrect/);
    const bad = await t.http
      .post(`/api/accounts/${accountId}/icloud/code`)
      .send({ code: '12ab' })
      .expect(400);
    expect(bad.body.message).toMatch(/6-digit/);
    const account = await t.http.get(`/api/accounts/${accountId}`).expect(200);
    expect(account.body.state).toBe('awaiting-code');
  });

  it('should connect when the right code comes, keeping session and password sealed', async () => {
    const res = await t.http
      .post(`/api/accounts/${accountId}/icloud/code`)
      .send({ code: icloud.control.lastSecurityCode() })
      .expect(200);
    expect(res.body).toMatchObject({ state: 'connected', account: { state: 'connected' } });
    expect(res.body.account.options.password).toBe('********');
    const secrets = await storedSecrets(t, accountId);
    expect(secrets.trustToken).toEqual(expect.any(String));
    expect(secrets.password).toBe(icloud.credentials.password);
    const db = await databaseBytes(t.dataDir);
    expect(db.includes(icloud.credentials.password)).toBe(false);
    expect(db.includes(secrets.trustToken!)).toBe(false);
    expect(db.includes(secrets.sessionToken!)).toBe(false);
  });

  it('should browse All Photos without another code', async () => {
    const posts = count(POST_CODE);
    const puts = count(PUT_CODE);
    const res = await t.http.get(`/api/accounts/${accountId}/browse?path=All%20Photos`).expect(200);
    expect(res.body.length).toBeGreaterThan(0);
    expect(res.body.every((e: { kind: string }) => e.kind === 'folder')).toBe(true);
    expect(count(POST_CODE)).toBe(posts);
    expect(count(PUT_CODE)).toBe(puts);
  });

  it('should sign in again with the trust token and no code when the session ended', async () => {
    icloud.control.expireSession();
    const puts = count(PUT_CODE);
    const res = await signIn({ accountId, password: icloud.credentials.password }).expect(200);
    expect(res.body).toMatchObject({
      state: 'connected',
      account: { id: accountId, name: 'Photos', state: 'connected' },
    });
    expect(count(PUT_CODE)).toBe(puts);
    await t.http.get(`/api/accounts/${accountId}/browse?path=All%20Photos`).expect(200);
  });

  it('should let a run sign in again with the stored password when the session ended', async () => {
    icloud.control.expireSession();
    const completes = count('idmsa POST /signin/complete');
    const puts = count(PUT_CODE);
    await t.http.get(`/api/accounts/${accountId}/browse?path=All%20Photos`).expect(200);
    expect(count('idmsa POST /signin/complete')).toBe(completes + 1);
    expect(count(PUT_CODE)).toBe(puts);
  });

  it('should send a new code on request and lock after too many wrong codes', async () => {
    const res = await signIn({
      name: 'Second',
      appleId: icloud.credentials.appleId,
      password: icloud.credentials.password,
      rememberPassword: false,
    }).expect(200);
    expect(res.body.state).toBe('needs-code');
    const id = res.body.account.id as string;
    expect((await storedSecrets(t, id)).password).toBeUndefined();
    const puts = count(PUT_CODE);
    await t.http.post(`/api/accounts/${id}/icloud/request-code`).expect(200);
    expect(count(PUT_CODE)).toBe(puts + 1);
    const real = icloud.control.lastSecurityCode()!;
    const wrong = real === '111111' ? '222222' : '111111';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.http.post(`/api/accounts/${id}/icloud/code`).send({ code: wrong });
      statuses.push(r.status);
      if (r.status === 423) expect(r.body.message).toMatch(/Too many wrong verification codes/);
    }
    expect(statuses).toEqual([400, 400, 423]);
    const account = await t.http.get(`/api/accounts/${id}`).expect(200);
    expect(account.body.state).toBe('needs-reauth');
    // A locked sign-in takes no more codes, even the right one.
    const after = await t.http
      .post(`/api/accounts/${id}/icloud/code`)
      .send({ code: real })
      .expect(409);
    expect(after.body.message).toMatch(/not waiting for a verification code/);
  });
});
