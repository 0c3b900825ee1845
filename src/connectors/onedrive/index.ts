import type { ConnectorConfig, ConnectorDescriptor, OAuthFlow } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';
import { authorizeEndpoint, requestToken } from './onedrive.auth.js';
import { LazyCloudConnector } from '../lazy-connector.js';
import {
  DEFAULT_AUTHORITY_BASE_URL,
  ONEDRIVE_CAPABILITIES,
  ONEDRIVE_OPTIONS,
  ONEDRIVE_SCOPES,
  oneDriveCapabilities,
  parseOneDriveOptions,
  trimSlash,
} from './onedrive.options.js';

function authority(config: ConnectorConfig): {
  authorityBaseUrl: string;
  tenant: string;
  clientId: string;
} {
  const clientId = typeof config.clientId === 'string' ? config.clientId.trim() : '';
  if (!clientId) throw new FatalError('onedrive: clientId is required to sign in');
  return {
    authorityBaseUrl: trimSlash(
      typeof config.authorityBaseUrl === 'string' && config.authorityBaseUrl
        ? config.authorityBaseUrl
        : DEFAULT_AUTHORITY_BASE_URL,
    ),
    tenant: typeof config.tenant === 'string' && config.tenant ? config.tenant : 'common',
    clientId,
  };
}

/**
 * Authorization-code flow with PKCE (S256) against the Microsoft identity platform v2.0, with the
 * user's own app registration. A public client needs no secret. OAuthFlow only receives the plain
 * config, so a confidential client's secret is read from `config.clientSecret` when the caller
 * passes it there.
 */
export const oneDriveOAuthFlow: OAuthFlow = {
  authorizeUrl: ({ state, redirectUri, codeChallenge, config }) => {
    const a = authority(config);
    const url = new URL(authorizeEndpoint(a));
    url.searchParams.set('client_id', a.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_mode', 'query');
    url.searchParams.set('scope', ONEDRIVE_SCOPES);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  },
  exchangeCode: async ({ code, redirectUri, codeVerifier, config }) => {
    const a = authority(config);
    const secret =
      typeof config.clientSecret === 'string' && config.clientSecret
        ? config.clientSecret
        : undefined;
    const issued = await requestToken(
      { ...a, clientSecret: secret },
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
      },
      Date.now(),
    );
    if (!issued.refreshToken) {
      throw new FatalError(
        'the identity platform returned no refresh token: is offline_access granted?',
      );
    }
    const { clientSecret: _omit, ...plain } = config;
    void _omit;
    return {
      config: plain,
      secrets: {
        refreshToken: issued.refreshToken,
        accessToken: issued.accessToken,
        accessTokenExpiresAt: String(issued.expiresAt),
      },
    };
  },
};

export const oneDriveConnectorDescriptor: ConnectorDescriptor = {
  kind: 'onedrive',
  displayName: 'OneDrive / SharePoint',
  description:
    'Microsoft OneDrive (personal or work/school) and SharePoint document libraries, through Microsoft Graph.',
  options: ONEDRIVE_OPTIONS,
  capabilities: ONEDRIVE_CAPABILITIES,
  // Upload sessions and downloads are handed out on these.
  requestHosts: ['sharepoint.com', '1drv.com', 'onedrive.com', 'microsoftpersonalcontent.com'],
  // Settings are checked now; the Microsoft Graph client is imported on the connector's first call.
  create: (settings, ctx) => {
    const o = parseOneDriveOptions(settings.config, settings.secrets);
    return new LazyCloudConnector('onedrive', oneDriveCapabilities(o), async () =>
      (await import('./onedrive.factory.js')).createOneDriveConnector(o, ctx),
    );
  },
  oauth: oneDriveOAuthFlow,
};
