import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  escapeHtml,
  formParams,
  HttpError,
  parseBasicAuth,
  readSmallBody,
  sendJson,
  sendText,
} from './dropbox-emulator.http.js';

/** Access tokens, refresh tokens, authorization codes and the consent page of the emulator. */

export type TokenCheck = 'ok' | 'expired' | 'invalid';

interface RefreshGrant {
  clientId: string;
  /** Issued through PKCE: refreshing needs only the client id (as on Dropbox). */
  pkce: boolean;
  revoked: boolean;
  scope: string;
}

interface PendingCode {
  clientId: string;
  redirectUri?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  offline: boolean;
  scope: string;
  expiresAt: number;
}

interface PendingConsent {
  query: URLSearchParams;
}

export const DEFAULT_SCOPE =
  'account_info.read files.content.read files.content.write files.metadata.read files.metadata.write';

export class OAuthState {
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly consents = new Map<string, PendingConsent>();
  /** Count of refresh-grant calls answered with a token, for tests. */
  refreshCount = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    private readonly lifetimeSeconds: number,
    private readonly now: () => number,
  ) {}

  issueAccessToken(): { token: string; expiresIn: number } {
    const token = `sl.${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, this.now() + this.lifetimeSeconds * 1000);
    return { token, expiresIn: this.lifetimeSeconds };
  }

  issueRefreshToken(pkce: boolean, scope = DEFAULT_SCOPE): string {
    // URL-safe: the SDK concatenates the refresh token into the token URL without encoding it.
    const token = randomBytes(32).toString('base64url');
    this.refreshTokens.set(token, { clientId: this.clientId, pkce, revoked: false, scope });
    return token;
  }

  check(token: string): TokenCheck {
    const exp = this.accessTokens.get(token);
    if (exp === undefined) return 'invalid';
    return exp <= this.now() ? 'expired' : 'ok';
  }

  expireAccessTokens(): void {
    for (const k of this.accessTokens.keys()) this.accessTokens.set(k, this.now() - 1);
  }

  revokeRefreshTokens(): void {
    for (const g of this.refreshTokens.values()) g.revoked = true;
  }

  revokeAccessToken(token: string): void {
    this.accessTokens.delete(token);
  }

  /** POST /oauth2/token on the api host: params in the query string, a form body, or both. */
  async handleToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'Method Not Allowed');
    const body = await readSmallBody(req);
    const p = formParams(url, body, req.headers['content-type']);
    const basic = parseBasicAuth(req.headers.authorization);
    const clientId = p.get('client_id') ?? basic?.id;
    const clientSecret = p.get('client_secret') ?? basic?.secret;
    const fail = (error: string, description: string) =>
      new HttpError(400, { error, error_description: description });
    if (clientId !== this.clientId)
      throw fail('invalid_client', 'Invalid client_id or client_secret');
    if (clientSecret !== undefined && clientSecret !== this.clientSecret) {
      throw fail('invalid_client', 'Invalid client_id or client_secret');
    }
    const grant = p.get('grant_type');
    if (grant === 'refresh_token') {
      const rt = p.get('refresh_token');
      const g = rt === undefined ? undefined : this.refreshTokens.get(rt);
      if (!g || g.revoked) throw fail('invalid_grant', 'refresh token is invalid or revoked');
      if (!g.pkce && clientSecret === undefined)
        throw fail('invalid_client', 'No client_secret provided');
      const { token, expiresIn } = this.issueAccessToken();
      this.refreshCount += 1;
      sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: expiresIn });
      return;
    }
    if (grant === 'authorization_code') {
      const code = p.get('code') ?? '';
      const pending = this.codes.get(code);
      this.codes.delete(code); // single use
      if (!pending || pending.expiresAt < this.now())
        throw fail('invalid_grant', "code doesn't exist or has expired");
      if (pending.redirectUri !== undefined && p.get('redirect_uri') !== pending.redirectUri) {
        throw fail('invalid_grant', 'redirect_uri mismatch');
      }
      if (pending.codeChallenge !== undefined) {
        const verifier = p.get('code_verifier');
        if (!verifier) throw fail('invalid_grant', 'invalid code verifier');
        const expected =
          pending.codeChallengeMethod === 'plain'
            ? verifier
            : createHash('sha256').update(verifier).digest('base64url');
        if (expected !== pending.codeChallenge)
          throw fail('invalid_grant', 'invalid code verifier');
      } else if (clientSecret === undefined) {
        throw fail('invalid_client', 'No client_secret provided');
      }
      const { token, expiresIn } = this.issueAccessToken();
      const out: Record<string, unknown> = {
        access_token: token,
        token_type: 'bearer',
        expires_in: expiresIn,
        scope: pending.scope,
        uid: '12345',
        account_id: 'dbid:AAemulatoraccount',
      };
      if (pending.offline)
        out.refresh_token = this.issueRefreshToken(
          pending.codeChallenge !== undefined,
          pending.scope,
        );
      sendJson(res, 200, out);
      return;
    }
    throw fail('unsupported_grant_type', `grant_type '${grant ?? ''}' is not supported`);
  }

  /** GET /oauth2/authorize on the www host: a consent page with Allow / Deny links. */
  handleAuthorize(res: ServerResponse, url: URL, base: string): void {
    const q = url.searchParams;
    const problem = (msg: string) => sendText(res, 400, `Invalid request: ${msg}`);
    if (q.get('client_id') !== this.clientId) return problem('invalid client_id');
    if (q.get('response_type') !== 'code') return problem('response_type must be code');
    if (!q.get('redirect_uri')) return problem('redirect_uri is required');
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge && method !== 'S256' && method !== 'plain')
      return problem('unknown code_challenge_method');
    const tat = q.get('token_access_type');
    if (tat && !['legacy', 'online', 'offline'].includes(tat))
      return problem('invalid token_access_type');
    const id = randomBytes(12).toString('base64url');
    this.consents.set(id, { query: q });
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>API Request Authorization - Dropbox emulator</title></head>
<body><h1>Allow access to your Dropbox?</h1>
<p>App <b>${escapeHtml(this.clientId)}</b> asks for: ${escapeHtml(q.get('scope') ?? DEFAULT_SCOPE)}</p>
<a id="allow" href="${base}/oauth2/authorize/decide?consent=${id}&amp;allow=1">Allow</a>
<a id="deny" href="${base}/oauth2/authorize/decide?consent=${id}&amp;allow=0">Cancel</a>
</body></html>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  }

  handleDecision(res: ServerResponse, url: URL): void {
    const consent = this.consents.get(url.searchParams.get('consent') ?? '');
    if (!consent) return sendText(res, 400, 'Invalid request: unknown consent');
    this.consents.delete(url.searchParams.get('consent') ?? '');
    const q = consent.query;
    const target = new URL(q.get('redirect_uri')!);
    const state = q.get('state');
    if (url.searchParams.get('allow') !== '1') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set(
        'error_description',
        'The user chose not to give your app access to their Dropbox account.',
      );
    } else {
      const code = randomBytes(24).toString('base64url');
      this.codes.set(code, {
        clientId: this.clientId,
        redirectUri: q.get('redirect_uri') ?? undefined,
        codeChallenge: q.get('code_challenge') ?? undefined,
        codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
        offline: q.get('token_access_type') === 'offline',
        scope: q.get('scope') ?? DEFAULT_SCOPE,
        expiresAt: this.now() + 10 * 60 * 1000,
      });
      target.searchParams.set('code', code);
    }
    if (state !== null) target.searchParams.set('state', state);
    res.writeHead(302, { Location: target.toString() });
    res.end();
  }
}
