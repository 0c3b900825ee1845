import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readForm, sendJson } from './graph-wire.js';

export interface AppRegistration {
  clientId: string;
  /** Confidential clients only; public clients (PKCE) have none. */
  clientSecret?: string;
  /** When set, authorize and token refuse other redirect URIs. */
  redirectUris?: string[];
}

interface AccessToken {
  clientId: string;
  expiresAt: number;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge?: string;
  challengeMethod?: string;
  expiresAt: number;
}

const TENANT = /^(common|organizations|consumers|[0-9a-f-]{36}|[a-z0-9.-]+\.onmicrosoft\.com)$/i;

/** The Microsoft identity platform v2.0 endpoints the engine uses: authorize (consent) and token. */
export class IdentityPlatform {
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, { clientId: string; scope: string }>();
  private readonly codes = new Map<string, AuthCode>();

  constructor(
    readonly app: AppRegistration,
    private readonly accessTokenTtlSec: number,
    private readonly now: () => number,
  ) {}

  /** Issues a token pair without the browser dance (test credentials). */
  issue(scope = 'offline_access Files.ReadWrite.All'): {
    accessToken: string;
    refreshToken: string;
    expiresAt: number;
  } {
    const t = this.tokenResponse(this.app.clientId, scope);
    return {
      accessToken: t.access_token,
      refreshToken: t.refresh_token!,
      expiresAt: this.now() + t.expires_in * 1000,
    };
  }

  /** 'ok', or why a bearer token is refused. */
  checkBearer(header: string | undefined): 'ok' | 'missing' | 'invalid' | 'expired' {
    if (!header) return 'missing';
    const m = /^Bearer (\S+)$/i.exec(header);
    if (!m) return 'invalid';
    const t = this.accessTokens.get(m[1]!);
    if (!t) return 'invalid';
    return t.expiresAt <= this.now() ? 'expired' : 'ok';
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expiresAt = 0;
  }

  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  /** GET {tenant}/oauth2/v2.0/authorize: a consent page whose "Allow" link redirects with a code. */
  authorize(url: URL, res: ServerResponse, allow: boolean | undefined): void {
    const q = url.searchParams;
    const clientId = q.get('client_id');
    const redirectUri = q.get('redirect_uri');
    if (clientId !== this.app.clientId) {
      return htmlError(
        res,
        `AADSTS700016: Application with identifier '${clientId ?? ''}' was not found in the directory.`,
      );
    }
    if (!redirectUri || (this.app.redirectUris && !this.app.redirectUris.includes(redirectUri))) {
      return htmlError(
        res,
        'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.',
      );
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    const fail = (error: string, description: string): void => {
      back.searchParams.set('error', error);
      back.searchParams.set('error_description', description);
      if (state !== null) back.searchParams.set('state', state);
      res.writeHead(302, { location: back.toString() }).end();
    };
    if (q.get('response_type') !== 'code')
      return fail('unsupported_response_type', 'AADSTS700054: response_type must be code.');
    const scope = q.get('scope');
    if (!scope)
      return fail(
        'invalid_request',
        "AADSTS900144: The request body must contain the following parameter: 'scope'.",
      );
    const challenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
    if (challenge && method !== 'S256' && method !== 'plain') {
      return fail('invalid_request', 'AADSTS501491: Invalid code_challenge_method.');
    }
    if (allow === undefined) {
      const allowUrl = new URL(url.toString());
      allowUrl.pathname = url.pathname + '/allow';
      const denyUrl = new URL(url.toString());
      denyUrl.pathname = url.pathname + '/deny';
      const rel = (u: URL) => escapeHtml(u.pathname + u.search);
      const body = `<!doctype html><html><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body><h1>Permissions requested</h1><p>An app (${escapeHtml(clientId)}) wants to: ${escapeHtml(scope)}</p>
<p><a id="allow" href="${rel(allowUrl)}">Allow</a> <a id="deny" href="${rel(denyUrl)}">Cancel</a></p></body></html>`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
      return;
    }
    if (!allow)
      return fail('access_denied', 'AADSTS65004: User declined to consent to access the app.');
    const code = `M.C5${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, {
      clientId,
      redirectUri,
      scope,
      challenge,
      challengeMethod: method,
      expiresAt: this.now() + 10 * 60_000,
    });
    back.searchParams.set('code', code);
    if (state !== null) back.searchParams.set('state', state);
    res.writeHead(302, { location: back.toString() }).end();
  }

  /** POST {tenant}/oauth2/v2.0/token (form encoded). */
  async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    // client_secret_basic (RFC 6749 2.3.1): the client id and secret, form-urlencoded, in an HTTP
    // Basic header instead of the body. Both forms at once is refused, as the platform does.
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0 || form.has('client_secret')) {
        return tokenError(
          res,
          401,
          'invalid_client',
          'AADSTS7000218: The request body must contain the following parameter: client_assertion or client_secret, sent once.',
          7000218,
        );
      }
      const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      if (form.has('client_id') && form.get('client_id') !== id) {
        return tokenError(
          res,
          400,
          'invalid_request',
          'AADSTS90101: The client_id in the body does not match the Authorization header.',
          90101,
        );
      }
      form.set('client_id', id);
      form.set('client_secret', decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')));
    }
    const clientId = form.get('client_id');
    if (clientId !== this.app.clientId) {
      return tokenError(
        res,
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId ?? ''}' was not found in the directory.`,
        700016,
      );
    }
    if (
      this.app.clientSecret !== undefined &&
      form.get('client_secret') !== this.app.clientSecret
    ) {
      return tokenError(
        res,
        401,
        'invalid_client',
        'AADSTS7000215: Invalid client secret provided.',
        7000215,
      );
    }
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = form.get('code') ?? '';
      const entry = this.codes.get(code);
      this.codes.delete(code); // single use
      if (!entry || entry.expiresAt <= this.now() || entry.clientId !== clientId) {
        return tokenError(
          res,
          400,
          'invalid_grant',
          'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.',
          70008,
        );
      }
      if (form.get('redirect_uri') !== entry.redirectUri) {
        return tokenError(
          res,
          400,
          'invalid_grant',
          'AADSTS70000: The redirect URI does not match the one used in the authorization request.',
          70000,
        );
      }
      if (entry.challenge !== undefined) {
        const verifier = form.get('code_verifier') ?? '';
        const computed =
          entry.challengeMethod === 'S256'
            ? createHash('sha256').update(verifier).digest('base64url')
            : verifier;
        if (computed !== entry.challenge) {
          return tokenError(
            res,
            400,
            'invalid_grant',
            'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.',
            501481,
          );
        }
      }
      return sendJson(res, 200, this.tokenResponse(entry.clientId, entry.scope), {
        'cache-control': 'no-store',
      });
    }
    if (grant === 'refresh_token') {
      const rt = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!rt || rt.clientId !== clientId) {
        return tokenError(
          res,
          400,
          'invalid_grant',
          'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.',
          70008,
        );
      }
      return sendJson(res, 200, this.tokenResponse(rt.clientId, form.get('scope') ?? rt.scope), {
        'cache-control': 'no-store',
      });
    }
    return tokenError(
      res,
      400,
      'unsupported_grant_type',
      `AADSTS70003: The app requested an unsupported grant type '${grant ?? ''}'.`,
      70003,
    );
  }

  static isTenant(s: string): boolean {
    return TENANT.test(s);
  }

  private tokenResponse(clientId: string, scope: string) {
    const accessToken = `EwB${randomBytes(32).toString('base64url')}`;
    this.accessTokens.set(accessToken, {
      clientId,
      expiresAt: this.now() + this.accessTokenTtlSec * 1000,
    });
    const wantsRefresh = scope.split(/\s+/).includes('offline_access');
    let refreshToken: string | undefined;
    if (wantsRefresh) {
      // Every refresh hands out a new refresh token; the old one keeps working (as AAD does).
      refreshToken = `M.R3_${randomBytes(32).toString('base64url')}`;
      this.refreshTokens.set(refreshToken, { clientId, scope });
    }
    return {
      token_type: 'Bearer',
      scope,
      expires_in: this.accessTokenTtlSec,
      ext_expires_in: this.accessTokenTtlSec,
      access_token: accessToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }
}

function tokenError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  code: number,
): void {
  sendJson(res, status, {
    error,
    error_description: description,
    error_codes: [code],
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

function htmlError(res: ServerResponse, message: string): void {
  res
    .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
    .end(`<!doctype html><p>${escapeHtml(message)}</p>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function assertTenant(tenant: string): void {
  if (!IdentityPlatform.isTenant(tenant)) {
    throw new HttpError(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found.`);
  }
}
