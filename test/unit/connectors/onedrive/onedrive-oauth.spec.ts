import { createHash, randomBytes } from 'node:crypto';
import { AuthExpiredError } from '../../../../src/connectors/connector.errors.js';
import {
  oneDriveConnectorDescriptor,
  oneDriveOAuthFlow,
} from '../../../../src/connectors/onedrive/index.js';
import { instantClock } from '../../../support/connectors/onedrive.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../../../../emulators/onedrive/onedrive-emulator.js';

const REDIRECT = 'http://127.0.0.1:9/oauth/callback';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Opens the consent page, follows its Allow link, returns the redirect's query. */
async function consent(emu: OneDriveEmulator, authorizeUrl: string): Promise<URLSearchParams> {
  const page = await (await fetch(authorizeUrl)).text();
  const href = /id="allow" href="([^"]+)"/.exec(page)?.[1]?.replace(/&#38;/g, '&');
  expect(href).toBeDefined();
  const res = await fetch(new URL(href!, emu.baseUrl), { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!).searchParams;
}

describe('OneDrive OAuth flow', () => {
  let emu: OneDriveEmulator;
  const config = () => ({
    clientId: emu.credentials.clientId,
    authorityBaseUrl: emu.baseUrl,
    graphBaseUrl: emu.baseUrl,
    tenant: 'common',
  });

  beforeEach(async () => {
    emu = await startOneDriveEmulator({ redirectUris: [REDIRECT] });
  });
  afterEach(async () => {
    await emu.stop();
  });

  it('should build an authorize URL with PKCE S256, offline_access and the tenant', () => {
    const url = new URL(
      oneDriveOAuthFlow.authorizeUrl({
        state: 's1',
        redirectUri: REDIRECT,
        codeChallenge: 'abc',
        config: config(),
      }),
    );
    expect(url.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe('offline_access Files.ReadWrite.All');
    expect(url.searchParams.get('response_type')).toBe('code');
  });

  it('should connect an account when the user allows and the code is exchanged with the verifier', async () => {
    const { verifier, challenge } = pkce();
    const q = await consent(
      emu,
      oneDriveOAuthFlow.authorizeUrl({
        state: 'st-9',
        redirectUri: REDIRECT,
        codeChallenge: challenge,
        config: config(),
      }),
    );
    expect(q.get('state')).toBe('st-9');

    const settings = await oneDriveOAuthFlow.exchangeCode({
      code: q.get('code')!,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      config: config(),
    });

    expect(settings.secrets.refreshToken).toMatch(/^M\.R3_/);
    const sut = oneDriveConnectorDescriptor.create(settings, {
      clock: instantClock(),
      saveSecrets: async () => undefined,
    });
    await expect(sut.stat('')).resolves.toMatchObject({ kind: 'folder' });
  });

  it('should throw AuthExpiredError when the code verifier does not match the challenge', async () => {
    const { challenge } = pkce();
    const q = await consent(
      emu,
      oneDriveOAuthFlow.authorizeUrl({
        state: 'x',
        redirectUri: REDIRECT,
        codeChallenge: challenge,
        config: config(),
      }),
    );
    await expect(
      oneDriveOAuthFlow.exchangeCode({
        code: q.get('code')!,
        redirectUri: REDIRECT,
        codeVerifier: 'wrong-verifier',
        config: config(),
      }),
    ).rejects.toBeInstanceOf(AuthExpiredError);
  });

  it('should refuse a code used twice', async () => {
    const { verifier, challenge } = pkce();
    const q = await consent(
      emu,
      oneDriveOAuthFlow.authorizeUrl({
        state: 'x',
        redirectUri: REDIRECT,
        codeChallenge: challenge,
        config: config(),
      }),
    );
    const req = {
      code: q.get('code')!,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      config: config(),
    };
    await oneDriveOAuthFlow.exchangeCode(req);
    await expect(oneDriveOAuthFlow.exchangeCode(req)).rejects.toBeInstanceOf(AuthExpiredError);
  });
});
