import { createHash, randomBytes } from 'node:crypto';
import { systemClock } from '../../../../src/common/clock.js';
import { AuthExpiredError } from '../../../../src/connectors/connector.errors.js';
import { dropboxConnectorDescriptor } from '../../../../src/connectors/dropbox/index.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../../emulators/dropbox/dropbox-emulator.js';

const pkce = () => {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** Drives the consent page like a browser: GET it, follow "Allow", read the redirect. */
async function consent(url: string): Promise<URL> {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const href = /id="allow" href="([^"]+)"/.exec(await page.text())![1]!.replace(/&amp;/g, '&');
  const decided = await fetch(href, { redirect: 'manual' });
  expect(decided.status).toBe(302);
  return new URL(decided.headers.get('location')!);
}

describe('dropboxConnectorDescriptor.oauth', () => {
  let emu: DropboxEmulator;
  const sut = dropboxConnectorDescriptor.oauth!;

  beforeEach(async () => {
    emu = await startDropboxEmulator();
  });

  afterEach(async () => {
    await emu.stop();
  });

  const config = () => ({
    clientId: emu.credentials.clientId,
    authorizeBaseUrl: emu.hosts.www,
    apiBaseUrl: emu.hosts.api,
    contentBaseUrl: emu.hosts.content,
    notifyBaseUrl: emu.hosts.notify,
  });

  it('should build a consent URL with PKCE S256, offline access and encoded values', () => {
    const url = new URL(
      sut.authorizeUrl({
        state: 'a b&c',
        redirectUri: 'https://backup.example/cb?x=1',
        codeChallenge: 'chal',
        config: { clientId: 'key123' },
      }),
    );
    expect(url.origin + url.pathname).toBe('https://www.dropbox.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'key123',
      response_type: 'code',
      redirect_uri: 'https://backup.example/cb?x=1',
      state: 'a b&c',
      token_access_type: 'offline',
      code_challenge: 'chal',
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('scope')).toContain('files.content.write');
  });

  it('should connect an account end to end when the user allows access', async () => {
    const { verifier, challenge } = pkce();
    const redirectUri = 'http://127.0.0.1:9/oauth/callback';
    const back = await consent(
      sut.authorizeUrl({ state: 'st-1', redirectUri, codeChallenge: challenge, config: config() }),
    );
    expect(back.searchParams.get('state')).toBe('st-1');

    const settings = await sut.exchangeCode({
      code: back.searchParams.get('code')!,
      redirectUri,
      codeVerifier: verifier,
      config: config(),
    });

    expect(settings.secrets).toMatchObject({
      refreshToken: expect.any(String),
      accessToken: expect.stringMatching(/^sl\./),
    });
    const connector = dropboxConnectorDescriptor.create(settings, {
      clock: systemClock,
      saveSecrets: async () => undefined,
    });
    await expect(connector.mkdir('linked')).resolves.toMatchObject({
      kind: 'folder',
      name: 'linked',
    });
    // The refresh token from the exchange works on its own too.
    const fresh = dropboxConnectorDescriptor.create(
      { config: settings.config, secrets: { refreshToken: settings.secrets.refreshToken! } },
      { clock: systemClock, saveSecrets: async () => undefined },
    );
    await expect(fresh.stat('linked')).resolves.toMatchObject({ kind: 'folder' });
  });

  it('should throw AuthExpiredError when the code verifier does not match the challenge', async () => {
    const { challenge } = pkce();
    const redirectUri = 'http://127.0.0.1:9/cb';
    const back = await consent(
      sut.authorizeUrl({ state: 's', redirectUri, codeChallenge: challenge, config: config() }),
    );

    const err = await sut
      .exchangeCode({
        code: back.searchParams.get('code')!,
        redirectUri,
        codeVerifier: pkce().verifier,
        config: config(),
      })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AuthExpiredError);
    expect((err as AuthExpiredError).providerCode).toBe('invalid_grant');
  });
});
