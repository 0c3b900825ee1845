import type { ConnectorConfig, ConnectorSettings, OAuthFlow } from '../connector-descriptor.js';
import { AuthExpiredError, FatalError } from '../connector.errors.js';
import type { DropboxOAuthErrorBody, DropboxTokenResponse } from './api/types.js';
import type { FetchLike } from './dropbox.fetch.js';
import {
  DROPBOX_API_BASE_URL,
  DROPBOX_AUTHORIZE_BASE_URL,
  DROPBOX_SCOPES,
} from './dropbox.options.js';

function str(config: ConnectorConfig, key: string): string | undefined {
  const v = config[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function base(config: ConnectorConfig, key: string, dflt: string): string {
  return (str(config, key) ?? dflt).replace(/\/+$/, '');
}

/**
 * Authorization-code flow with PKCE (S256) and `token_access_type=offline` (the only way to get
 * a refresh token), against the user's own app key. The URL and the token request are built
 * here rather than with the SDK's getAuthenticationUrl/getAccessTokenFromCode: those concatenate
 * values without URL-encoding, generate their own PKCE verifier (the engine owns it), and drop
 * `code_verifier` as soon as a client secret is set, which Dropbox then refuses.
 */
export function createDropboxOAuthFlow(
  fetchImpl: FetchLike = (url, init) => fetch(url, init),
): OAuthFlow {
  return {
    authorizeUrl({ state, redirectUri, codeChallenge, config }) {
      const clientId = str(config, 'clientId');
      if (!clientId)
        throw new FatalError('the Dropbox app key (clientId) is required to connect an account');
      const url = new URL(
        `${base(config, 'authorizeBaseUrl', DROPBOX_AUTHORIZE_BASE_URL)}/oauth2/authorize`,
      );
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      url.searchParams.set('token_access_type', 'offline');
      url.searchParams.set('scope', DROPBOX_SCOPES.join(' '));
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return url.toString();
    },

    async exchangeCode({ code, redirectUri, codeVerifier, config }): Promise<ConnectorSettings> {
      const clientId = str(config, 'clientId');
      if (!clientId)
        throw new FatalError('the Dropbox app key (clientId) is required to connect an account');
      // The secret is optional with PKCE; it is used when the caller passes it along.
      const clientSecret = str(config, 'clientSecret');
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
        client_id: clientId,
      });
      if (clientSecret) form.set('client_secret', clientSecret);
      const res = await fetchImpl(
        `${base(config, 'apiBaseUrl', DROPBOX_API_BASE_URL)}/oauth2/token`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        },
      );
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!res.ok) {
        const err = body as DropboxOAuthErrorBody | undefined;
        throw new AuthExpiredError(
          `Dropbox refused the authorization code (${err?.error ?? res.status}: ${err?.error_description ?? text.slice(0, 200)}): connect again`,
          { providerCode: err?.error },
        );
      }
      const tokens = body as DropboxTokenResponse;
      if (!tokens.refresh_token) {
        throw new FatalError(
          'Dropbox returned no refresh token (token_access_type=offline was not honoured)',
        );
      }
      const config2: ConnectorConfig = { ...config };
      delete config2.clientSecret;
      const secrets: Record<string, string> = {
        refreshToken: tokens.refresh_token,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      };
      if (clientSecret) secrets.clientSecret = clientSecret;
      return { config: config2, secrets };
    },
  };
}
