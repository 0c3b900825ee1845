import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { driveErrors } from './drive-errors.js';

export const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive';

interface AuthCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
}

interface RefreshTokenState {
  clientId: string;
  scope: string;
  revoked: boolean;
}

interface AccessTokenState {
  expiresAt: number;
  scope: string;
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/**
 * Google's OAuth 2.0 endpoints as far as a backup tool uses them: consent page, token endpoint
 * (authorization_code with PKCE, refresh_token), revoke, and the bearer check of the API.
 */
export class OAuthServer {
  readonly client: OAuthClient = {
    clientId: `${randomBytes(6).toString('hex')}-emulator.apps.googleusercontent.com`,
    clientSecret: `GOCSPX-${randomBytes(12).toString('base64url')}`,
  };
  private readonly codes = new Map<string, AuthCode>();
  private readonly refreshTokens = new Map<string, RefreshTokenState>();
  private readonly accessTokens = new Map<string, AccessTokenState>();
  /** Refresh grants served, so tests can prove the connector refreshed. */
  refreshCount = 0;

  constructor(private readonly tokenTtlSeconds: number) {}

  /** A refresh + access token pair, as if the user had consented already. */
  issueInitial(): { refreshToken: string; accessToken: string; expiresAt: number } {
    const refreshToken = this.newRefreshToken(this.client.clientId, DRIVE_SCOPE);
    const { token, expiresAt } = this.newAccessToken(DRIVE_SCOPE);
    return { refreshToken, accessToken: token, expiresAt };
  }

  /** Every access token handed out so far stops working (as if an hour had passed). */
  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expiresAt = 0;
  }

  /** Every refresh token is revoked: the next refresh gets `invalid_grant`. */
  revokeRefreshTokens(): void {
    for (const t of this.refreshTokens.values()) t.revoked = true;
  }

  /** Throws the 401 a real front end sends for a missing, unknown or expired bearer token. */
  checkBearer(req: IncomingMessage): void {
    const h = req.headers.authorization;
    if (!h) throw driveErrors.required();
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) throw driveErrors.authError();
    const t = this.accessTokens.get(m[1]!);
    if (!t || t.expiresAt <= Date.now()) throw driveErrors.authError();
  }

  /** GET /o/oauth2/v2/auth: a consent page with Allow / Deny links. */
  consentPage(url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const problem = this.validateAuthorize(p);
    if (problem) {
      html(
        res,
        400,
        `<h1>Error 400: ${problem}</h1><p>Request details: ${escapeHtml(p.toString())}</p>`,
      );
      return;
    }
    const approve = `/o/oauth2/v2/auth/approve?${p.toString()}`;
    const deny = new URL(p.get('redirect_uri')!);
    deny.searchParams.set('error', 'access_denied');
    if (p.has('state')) deny.searchParams.set('state', p.get('state')!);
    html(
      res,
      200,
      `<h1>Google Drive emulator</h1><p>The app <b>${escapeHtml(p.get('client_id')!)}</b> wants to ` +
        `access your Google Drive (${escapeHtml(p.get('scope')!)}).</p>` +
        `<p><a id="allow" href="${escapeHtml(approve)}">Allow</a> <a id="deny" href="${escapeHtml(deny.toString())}">Deny</a></p>`,
    );
  }

  /** GET /o/oauth2/v2/auth/approve: mints a code and redirects back to the app. */
  approve(url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const problem = this.validateAuthorize(p);
    if (problem) {
      html(res, 400, `<h1>Error 400: ${problem}</h1>`);
      return;
    }
    const code = `4/0A${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, {
      clientId: p.get('client_id')!,
      redirectUri: p.get('redirect_uri')!,
      scope: p.get('scope')!,
      codeChallenge: p.get('code_challenge') ?? undefined,
      codeChallengeMethod: p.get('code_challenge_method') ?? undefined,
      expiresAt: Date.now() + 10 * 60_000,
    });
    const target = new URL(p.get('redirect_uri')!);
    target.searchParams.set('code', code);
    target.searchParams.set('scope', p.get('scope')!);
    if (p.has('state')) target.searchParams.set('state', p.get('state')!);
    res.writeHead(302, { Location: target.toString() });
    res.end();
  }

  /** POST /token (form encoded). */
  token(form: URLSearchParams, res: ServerResponse): void {
    const clientId = form.get('client_id');
    const secret = form.get('client_secret');
    if (!clientId || clientId !== this.client.clientId) {
      return tokenError(res, 401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (secret !== this.client.clientSecret) {
      return tokenError(res, 401, 'invalid_client', 'Unauthorized');
    }
    switch (form.get('grant_type')) {
      case 'authorization_code':
        return this.codeGrant(form, res);
      case 'refresh_token':
        return this.refreshGrant(form, res);
      case null:
        return tokenError(res, 400, 'invalid_request', 'Missing required parameter: grant_type');
      default:
        return tokenError(
          res,
          400,
          'unsupported_grant_type',
          `Invalid grant_type: ${form.get('grant_type')}`,
        );
    }
  }

  /** POST /revoke?token=... */
  revoke(token: string | null, res: ServerResponse): void {
    const rt = token ? this.refreshTokens.get(token) : undefined;
    if (rt) rt.revoked = true;
    else if (token && this.accessTokens.has(token)) this.accessTokens.get(token)!.expiresAt = 0;
    else return tokenError(res, 400, 'invalid_token', 'Token expired or revoked');
    json(res, 200, {});
  }

  private codeGrant(form: URLSearchParams, res: ServerResponse): void {
    const code = form.get('code');
    const entry = code ? this.codes.get(code) : undefined;
    if (!code || !entry) return tokenError(res, 400, 'invalid_grant', 'Malformed auth code.');
    this.codes.delete(code); // single use
    if (entry.expiresAt <= Date.now()) return tokenError(res, 400, 'invalid_grant', 'Bad Request');
    if (form.get('redirect_uri') !== entry.redirectUri) {
      return tokenError(res, 400, 'redirect_uri_mismatch', 'Bad Request');
    }
    if (entry.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return tokenError(res, 400, 'invalid_grant', 'Missing code verifier.');
      const computed =
        entry.codeChallengeMethod === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (computed !== entry.codeChallenge)
        return tokenError(res, 400, 'invalid_grant', 'Invalid code verifier.');
    }
    const refreshToken = this.newRefreshToken(entry.clientId, entry.scope);
    const { token } = this.newAccessToken(entry.scope);
    json(res, 200, {
      access_token: token,
      expires_in: this.tokenTtlSeconds,
      refresh_token: refreshToken,
      scope: entry.scope,
      token_type: 'Bearer',
    });
  }

  private refreshGrant(form: URLSearchParams, res: ServerResponse): void {
    const rt = form.get('refresh_token');
    const state = rt ? this.refreshTokens.get(rt) : undefined;
    if (!rt)
      return tokenError(res, 400, 'invalid_request', 'Missing required parameter: refresh_token');
    if (!state || state.revoked || state.clientId !== form.get('client_id')) {
      return tokenError(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    this.refreshCount++;
    const { token } = this.newAccessToken(state.scope);
    json(res, 200, {
      access_token: token,
      expires_in: this.tokenTtlSeconds,
      scope: state.scope,
      token_type: 'Bearer',
    });
  }

  private validateAuthorize(p: URLSearchParams): string | undefined {
    if (p.get('client_id') !== this.client.clientId) return 'invalid_client';
    if (p.get('response_type') !== 'code') return 'unsupported_response_type';
    const redirect = p.get('redirect_uri');
    if (!redirect || !URL.canParse(redirect)) return 'invalid_request (redirect_uri)';
    if (!p.get('scope')) return 'invalid_request (Missing required parameter: scope)';
    const method = p.get('code_challenge_method');
    if (method !== null && method !== 'S256' && method !== 'plain')
      return 'invalid_request (code_challenge_method)';
    if (method !== null && !p.get('code_challenge')) return 'invalid_request (code_challenge)';
    return undefined;
  }

  private newRefreshToken(clientId: string, scope: string): string {
    const t = `1//0${randomBytes(30).toString('base64url')}`;
    this.refreshTokens.set(t, { clientId, scope, revoked: false });
    return t;
  }

  private newAccessToken(scope: string): { token: string; expiresAt: number } {
    const token = `ya29.${randomBytes(40).toString('base64url')}`;
    const expiresAt = Date.now() + this.tokenTtlSeconds * 1000;
    this.accessTokens.set(token, { expiresAt, scope });
    return { token, expiresAt };
  }
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function html(res: ServerResponse, status: number, body: string): void {
  const text = `<!doctype html><html><head><title>Sign in - Google Accounts</title></head><body>${body}</body></html>`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function tokenError(res: ServerResponse, status: number, error: string, description: string): void {
  json(res, status, { error, error_description: description });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
