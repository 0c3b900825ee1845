import { stringify } from 'node:querystring';
import type { ConnectorConfig, ConnectorSettings, OAuthFlow } from '../connector-descriptor.js';
import { AuthExpiredError, FatalError } from '../connector.errors.js';
import { mapDriveError } from './google-drive.errors.js';
import {
  DEFAULT_AUTHORIZE_URL,
  DEFAULT_REVOKE_URL,
  DEFAULT_TOKEN_URL,
  DRIVE_SCOPE,
  GOOGLE_DRIVE_OPTIONS,
} from './google-drive.options.js';

/**
 * The OAuth client settings for the flow. `clientSecret` is a secret option; the caller passes it
 * in `config` for the duration of the flow (the flow has no other channel for it).
 */
function flowSettings(config: ConnectorConfig) {
  const s = (k: string, d: string) =>
    config[k] === undefined || config[k] === '' ? d : String(config[k]);
  const clientId = s('clientId', '');
  if (!clientId)
    throw new FatalError('google-drive: the OAuth client id is missing (option clientId)');
  return {
    clientId,
    clientSecret: s('clientSecret', ''),
    tokenUrl: s('tokenUrl', DEFAULT_TOKEN_URL),
    authorizeUrl: s('authorizeUrl', DEFAULT_AUTHORIZE_URL),
    revokeUrl: s('revokeUrl', DEFAULT_REVOKE_URL),
  };
}

export const googleDriveOAuthFlow: OAuthFlow = {
  /**
   * The consent page URL, built as google-auth-library's `generateAuthUrl` builds it (same
   * parameters in the same order), without importing googleapis for one string.
   */
  authorizeUrl({ state, redirectUri, codeChallenge, config }) {
    const o = flowSettings(config);
    const query = stringify({
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: DRIVE_SCOPE,
      // offline: we need a refresh token; consent: Google re-issues one even if the user had granted before.
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: true,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      client_id: o.clientId,
    });
    return `${o.authorizeUrl}?${query}`;
  },

  async exchangeCode({ code, redirectUri, codeVerifier, config }): Promise<ConnectorSettings> {
    const settings = flowSettings(config);
    // googleapis is imported when an account is connected, not at start-up.
    const { createOAuthClient } = await import('./google-drive.client.js');
    const client = createOAuthClient(settings);
    let tokens;
    try {
      ({ tokens } = await client.getToken({ code, codeVerifier, redirect_uri: redirectUri }));
    } catch (e) {
      const mapped = mapDriveError(e, 'exchanging the authorization code');
      throw mapped instanceof AuthExpiredError
        ? new AuthExpiredError(
            `google-drive: the authorization code was refused; connect the account again`,
            { cause: e },
          )
        : mapped;
    }
    if (!tokens.refresh_token) {
      throw new AuthExpiredError(
        'google-drive: Google returned no refresh token (access_type=offline and prompt=consent are required)',
      );
    }
    const plain: ConnectorConfig = {};
    const secrets: Record<string, string> = {
      refreshToken: tokens.refresh_token,
      ...(tokens.access_token ? { accessToken: tokens.access_token } : {}),
      ...(tokens.expiry_date ? { accessTokenExpiresAt: String(tokens.expiry_date) } : {}),
    };
    for (const spec of GOOGLE_DRIVE_OPTIONS) {
      const v = config[spec.key];
      if (v === undefined) continue;
      if (spec.secret) {
        if (!(spec.key in secrets)) secrets[spec.key] = String(v);
      } else {
        plain[spec.key] = v;
      }
    }
    return { config: plain, secrets };
  },
};
