import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import type { Clock } from '../../common/clock.js';
import type { ConnectorSecrets } from '../connector-descriptor.js';
import {
  AuthExpiredError,
  ConnectorError,
  FatalError,
  isAbortError,
  parseRetryAfter,
  RateLimitedError,
  TransientError,
} from '../connector.errors.js';
import type { TokenResponse } from './api/types.js';
import { ONEDRIVE_SCOPES } from './onedrive.options.js';

/** Refresh this long before the announced expiry, so a token never dies mid-request. */
const EXPIRY_SKEW_MS = 2 * 60_000;

export interface TokenEndpointConfig {
  authorityBaseUrl: string;
  tenant: string;
  clientId: string;
  clientSecret?: string;
  fetch?: typeof fetch;
}

export function tokenEndpoint(c: Pick<TokenEndpointConfig, 'authorityBaseUrl' | 'tenant'>): string {
  return `${c.authorityBaseUrl}/${encodeURIComponent(c.tenant)}/oauth2/v2.0/token`;
}

export function authorizeEndpoint(
  c: Pick<TokenEndpointConfig, 'authorityBaseUrl' | 'tenant'>,
): string {
  return `${c.authorityBaseUrl}/${encodeURIComponent(c.tenant)}/oauth2/v2.0/authorize`;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * POSTs a grant to the v2.0 token endpoint. `invalid_grant` (expired, revoked, password reset,
 * consent removed) and `interaction_required` become AuthExpiredError: the user must sign in
 * again, retrying cannot help. A wrong client id or secret is a configuration error (FatalError).
 */
export async function requestToken(
  c: TokenEndpointConfig,
  grant: Record<string, string>,
  now: number,
  signal?: AbortSignal,
): Promise<IssuedTokens> {
  const form = new URLSearchParams({ client_id: c.clientId, scope: ONEDRIVE_SCOPES, ...grant });
  if (c.clientSecret) form.set('client_secret', c.clientSecret);
  let res: Response;
  try {
    res = await (c.fetch ?? fetch)(tokenEndpoint(c), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      signal,
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new TransientError(`token endpoint unreachable: ${(e as Error).message}`, { cause: e });
  }
  let body: TokenResponse;
  try {
    body = (await res.json()) as TokenResponse;
  } catch {
    body = {};
  }
  if (res.ok && body.access_token) {
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: now + (body.expires_in ?? 3600) * 1000,
    };
  }
  const detail = `${body.error ?? res.status}: ${body.error_description ?? 'no description'}`;
  const opts = { providerCode: body.error };
  if (res.status === 429) {
    throw new RateLimitedError(`token endpoint throttled (${detail})`, {
      ...opts,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now),
    });
  }
  if (res.status >= 500) throw new TransientError(`token endpoint failed (${detail})`, opts);
  if (
    body.error === 'invalid_grant' ||
    body.error === 'interaction_required' ||
    body.error === 'consent_required'
  ) {
    throw new AuthExpiredError(
      `OneDrive sign-in expired or was revoked; re-authentication needed (${detail})`,
      opts,
    );
  }
  throw new FatalError(`OneDrive sign-in refused by the identity platform (${detail})`, opts);
}

export interface TokenManagerOptions extends TokenEndpointConfig {
  refreshToken: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
  clock: Clock;
  saveSecrets(secrets: ConnectorSecrets): Promise<void>;
}

/**
 * Holds the account's tokens, refreshes them before expiry (one refresh at a time) and stores each
 * rotated refresh token through `saveSecrets`. It is the SDK's AuthenticationProvider, but the
 * connector calls `ensureFresh()` before each request so refresh errors stay typed (the SDK would
 * wrap them into a GraphError).
 */
export class OneDriveTokenManager implements AuthenticationProvider {
  private accessToken?: string;
  private expiresAt: number;
  private refreshToken: string;
  private inflight?: Promise<string>;

  constructor(private readonly o: TokenManagerOptions) {
    this.accessToken = o.accessToken;
    this.expiresAt = o.accessTokenExpiresAt ?? 0;
    this.refreshToken = o.refreshToken;
  }

  /** The SDK asks for a token here. */
  async getAccessToken(): Promise<string> {
    return this.ensureFresh();
  }

  async ensureFresh(signal?: AbortSignal): Promise<string> {
    if (this.accessToken && this.o.clock.now().getTime() < this.expiresAt - EXPIRY_SKEW_MS)
      return this.accessToken;
    return this.refresh(undefined, signal);
  }

  /**
   * Refreshes after the service refused `rejected` (401). When another call already replaced that
   * token, the new one is returned without a second refresh.
   */
  async refresh(rejected?: string, signal?: AbortSignal): Promise<string> {
    if (rejected !== undefined && this.accessToken !== undefined && this.accessToken !== rejected) {
      return this.accessToken;
    }
    this.inflight ??= this.doRefresh(signal).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  get currentToken(): string | undefined {
    return this.accessToken;
  }

  private async doRefresh(signal?: AbortSignal): Promise<string> {
    const now = this.o.clock.now().getTime();
    let issued: IssuedTokens;
    try {
      issued = await requestToken(
        this.o,
        { grant_type: 'refresh_token', refresh_token: this.refreshToken },
        now,
        signal,
      );
    } catch (e) {
      if (e instanceof ConnectorError || isAbortError(e)) throw e;
      throw new TransientError(`token refresh failed: ${(e as Error).message}`, { cause: e });
    }
    this.accessToken = issued.accessToken;
    this.expiresAt = issued.expiresAt;
    // Every refresh returns a new refresh token: store it each time (protocols/onedrive.md section 2).
    if (issued.refreshToken) this.refreshToken = issued.refreshToken;
    await this.o.saveSecrets({
      refreshToken: this.refreshToken,
      accessToken: issued.accessToken,
      accessTokenExpiresAt: String(issued.expiresAt),
    });
    return issued.accessToken;
  }
}
