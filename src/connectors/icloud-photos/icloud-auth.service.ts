import { ConnectorError, isTransientNetworkError, TransientError } from '../connector.errors.js';
import { ICloudSignInError, mapHttpError, REAUTH_MESSAGE } from './icloud-photos.errors.js';
import type { ICloudEndpoints } from './icloud-photos.options.js';
import {
  cookieHeader,
  newSession,
  storeCookies,
  type ICloudSession,
} from './icloud-photos.session.js';
import { SrpClient, type SrpProtocol } from './srp.js';

/** The public widget key of the icloud.com web app (not a secret). */
export const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';
export const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

export interface SignInResult {
  state: 'authenticated' | 'needs-code';
  session: ICloudSession;
}

/** Response headers every tool copies into its persisted session after every idmsa answer. */
const STICKY: Array<[string, keyof ICloudSession]> = [
  ['scnt', 'scnt'],
  ['x-apple-id-session-id', 'sessionId'],
  ['x-apple-session-token', 'sessionToken'],
  ['x-apple-twosv-trust-token', 'trustToken'],
  ['x-apple-id-account-country', 'accountCountry'],
  ['x-apple-auth-attributes', 'authAttributes'],
];

interface Raw {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Apple ID sign-in for iCloud (SRP-6a, HSA2 second factor, trust token, accountLogin), written
 * for the accounts module: `signIn` -> maybe `requestCode` + `submitCode` -> store the session
 * (`sessionToSecrets`) in the vault. `resume` is what a connector does on every later run.
 * Sessions are treated as values: every method returns an updated copy.
 */
export class ICloudAuthService {
  constructor(
    private readonly endpoints: ICloudEndpoints,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /**
   * SRP sign-in. 'authenticated' when a stored trust token (from `previous`) spared the code,
   * 'needs-code' when the user must enter one (call `requestCode`, then `submitCode`).
   */
  async signIn(
    appleId: string,
    password: string,
    previous?: ICloudSession,
    signal?: AbortSignal,
  ): Promise<SignInResult> {
    const session = newSession(appleId, previous);
    const srp = new SrpClient();
    const init = await this.idmsa(
      session,
      'POST',
      '/signin/init',
      {
        a: srp.publicA.toString('base64'),
        accountName: appleId,
        protocols: ['s2k', 's2k_fo'],
      },
      signal,
    );
    if (init.status !== 200) throw this.authFailure(init, 'signin/init');
    // Apple sometimes labels this JSON text/html: parse the text whatever the content type says.
    const challenge = parseJson(init.text) as {
      iteration?: number;
      salt?: string;
      protocol?: SrpProtocol;
      b?: string;
      c?: string;
    };
    if (
      !challenge.salt ||
      !challenge.b ||
      !challenge.c ||
      !challenge.iteration ||
      !challenge.protocol
    ) {
      throw new TransientError('signin/init answered without a complete SRP challenge');
    }
    const proof = srp.respond({
      accountName: appleId,
      password,
      salt: Buffer.from(challenge.salt, 'base64'),
      iterations: challenge.iteration,
      protocol: challenge.protocol,
      serverB: Buffer.from(challenge.b, 'base64'),
    });
    const complete = await this.idmsa(
      session,
      'POST',
      '/signin/complete?isRememberMeEnabled=true',
      {
        accountName: appleId,
        c: challenge.c,
        m1: proof.m1.toString('base64'),
        m2: proof.m2.toString('base64'),
        rememberMe: true,
        trustTokens: session.trustToken ? [session.trustToken] : [],
      },
      signal,
    );
    if (complete.status === 200)
      return { state: 'authenticated', session: await this.accountLogin(session, signal) };
    if (complete.status === 409) {
      const body = parseJson(complete.text) as { fsaChallenge?: unknown; keyNames?: unknown };
      if (body.fsaChallenge || body.keyNames) {
        throw new ICloudSignInError(
          'security-key-only',
          'This Apple Account is protected by security keys only; it cannot be signed in without a browser.',
        );
      }
      return { state: 'needs-code', session };
    }
    if (complete.status === 401) {
      throw new ICloudSignInError('wrong-password', 'The Apple ID or password is incorrect.', {
        providerCode: '-20101',
      });
    }
    throw this.authFailure(complete, 'signin/complete');
  }

  /** Asks Apple to show a code on the trusted devices (needed since iOS 26.4: nothing arrives otherwise). */
  async requestCode(session: ICloudSession, signal?: AbortSignal): Promise<ICloudSession> {
    const s = clone(session);
    const r = await this.idmsa(s, 'PUT', '/verify/trusteddevice/securitycode', undefined, signal);
    if (r.status !== 200 && r.status !== 202 && r.status !== 204)
      throw this.authFailure(r, 'request code');
    return s;
  }

  /** Verifies the code, asks for a trust token and finishes with accountLogin. */
  async submitCode(
    session: ICloudSession,
    code: string,
    signal?: AbortSignal,
  ): Promise<SignInResult> {
    const s = clone(session);
    const r = await this.idmsa(
      s,
      'POST',
      '/verify/trusteddevice/securitycode',
      { securityCode: { code } },
      signal,
    );
    if (r.status === 400) {
      const body = parseJson(r.text) as { securityCode?: { securityCodeLocked?: boolean } };
      if (body.securityCode?.securityCodeLocked) {
        throw new ICloudSignInError(
          'code-locked',
          'Too many wrong verification codes: Apple locked code entry. Sign in again with the password to get a new code.',
          { providerCode: '-21669' },
        );
      }
      throw new ICloudSignInError('wrong-code', 'The verification code is incorrect.', {
        providerCode: '-21669',
      });
    }
    if (r.status !== 200 && r.status !== 204) throw this.authFailure(r, 'verify code');
    const trust = await this.idmsa(s, 'GET', '/2sv/trust', undefined, signal);
    if (trust.status !== 200 && trust.status !== 204) throw this.authFailure(trust, '2sv/trust');
    return { state: 'authenticated', session: await this.accountLogin(s, signal) };
  }

  /** Exchanges the session token for the .icloud.com cookies and the CloudKit URL. */
  async accountLogin(session: ICloudSession, signal?: AbortSignal): Promise<ICloudSession> {
    const s = clone(session);
    if (!s.sessionToken)
      throw new ICloudSignInError('session-expired', 'No iCloud session token: sign in again.');
    const r = await this.setup(
      s,
      'accountLogin',
      {
        accountCountryCode: s.accountCountry ?? 'USA',
        dsWebAuthToken: s.sessionToken,
        extended_login: true,
        trustToken: s.trustToken ?? '',
      },
      signal,
    );
    if (r.status === 421 || r.status === 401 || r.status === 450) {
      throw new ICloudSignInError(
        'session-expired',
        'The iCloud session token is no longer valid.',
      );
    }
    if (r.status === 403)
      throw new ICloudSignInError(
        'account-locked',
        'Apple refused the sign-in: the account is locked.',
      );
    if (r.status !== 200) throw this.authFailure(r, 'accountLogin');
    return this.applyAccount(s, r.text);
  }

  /** 200 while the .icloud.com cookies are still good; undefined when they are not. */
  async validate(session: ICloudSession, signal?: AbortSignal): Promise<ICloudSession | undefined> {
    const s = clone(session);
    if (!s.webCookies['X-APPLE-WEBAUTH-TOKEN']) return undefined;
    const r = await this.setup(s, 'validate', null, signal);
    if (r.status !== 200) {
      if (r.status === 421 || r.status === 401 || r.status === 450 || r.status === 403)
        return undefined;
      throw this.authFailure(r, 'validate');
    }
    return this.applyAccount(s, r.text);
  }

  /**
   * What every run does when its web session is gone: validate, then accountLogin with the stored
   * session token, then (with the stored password) SRP with the trust token. Only when Apple
   * insists on a code does it fail, with ICloudSignInError('needs-code').
   */
  async resume(
    session: ICloudSession,
    password?: string,
    signal?: AbortSignal,
  ): Promise<ICloudSession> {
    const validated = await this.validate(session, signal);
    if (validated) return validated;
    if (session.sessionToken) {
      try {
        return await this.accountLogin(session, signal);
      } catch (e) {
        if (!(e instanceof ICloudSignInError) || e.reason !== 'session-expired') throw e;
      }
    }
    if (!password) throw new ICloudSignInError('session-expired', REAUTH_MESSAGE);
    const r = await this.signIn(session.appleId, password, session, signal);
    if (r.state === 'needs-code') throw new ICloudSignInError('needs-code', REAUTH_MESSAGE);
    return r.session;
  }

  private applyAccount(s: ICloudSession, text: string): ICloudSession {
    const body = parseJson(text) as {
      dsInfo?: { dsid?: string; hsaVersion?: number };
      hsaChallengeRequired?: boolean;
      hsaTrustedBrowser?: boolean;
      webservices?: { ckdatabasews?: { url?: string }; photosupload?: { url?: string } };
      domainToUse?: string;
    };
    if (body.domainToUse) {
      throw new ICloudSignInError(
        'session-expired',
        `This Apple Account lives on ${body.domainToUse}: set the China mainland hosts in the advanced options.`,
      );
    }
    if (body.dsInfo?.hsaVersion === 2 && (body.hsaChallengeRequired || !body.hsaTrustedBrowser)) {
      throw new ICloudSignInError('needs-code', REAUTH_MESSAGE);
    }
    const url = body.webservices?.ckdatabasews?.url;
    if (!body.dsInfo?.dsid || !url)
      throw new TransientError('accountLogin answered without dsid or ckdatabasews URL');
    s.dsid = String(body.dsInfo.dsid);
    s.ckdatabasewsUrl = url.replace(/\/+$/, '');
    s.photosuploadUrl = body.webservices?.photosupload?.url?.replace(/\/+$/, '');
    return s;
  }

  private async idmsa(
    s: ICloudSession,
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Raw> {
    const origin = new URL(this.endpoints.authBaseUrl).origin;
    const headers: Record<string, string> = {
      'X-Apple-Widget-Key': WIDGET_KEY,
      'X-Apple-OAuth-Client-Id': WIDGET_KEY,
      'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
      'X-Apple-OAuth-Redirect-URI': this.endpoints.webOrigin,
      'X-Apple-OAuth-Require-Grant-Code': 'true',
      'X-Apple-OAuth-Response-Mode': 'web_message',
      'X-Apple-OAuth-Response-Type': 'code',
      'X-Apple-OAuth-State': s.clientId,
      'X-Apple-Frame-Id': s.clientId,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/javascript',
      Origin: origin,
      Referer: `${origin}/`,
      'User-Agent': USER_AGENT,
    };
    if (s.scnt) headers.scnt = s.scnt;
    if (s.sessionId) headers['X-Apple-ID-Session-Id'] = s.sessionId;
    if (s.authAttributes) headers['X-Apple-Auth-Attributes'] = s.authAttributes;
    const cookie = cookieHeader(s.authCookies);
    if (cookie) headers.Cookie = cookie;
    const raw = await this.send(
      `${this.endpoints.authBaseUrl}${path}`,
      method,
      headers,
      body,
      signal,
    );
    for (const [h, k] of STICKY) {
      const v = raw.headers.get(h);
      if (v) (s as unknown as Record<string, string>)[k] = v;
    }
    storeCookies(s.authCookies, raw.headers.getSetCookie());
    return raw;
  }

  private async setup(
    s: ICloudSession,
    name: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Raw> {
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain',
      Accept: '*/*',
      Origin: this.endpoints.webOrigin,
      Referer: `${this.endpoints.webOrigin}/`,
      'User-Agent': USER_AGENT,
    };
    const cookie = cookieHeader(s.webCookies);
    if (cookie) headers.Cookie = cookie;
    const raw = await this.send(
      `${this.endpoints.setupBaseUrl}/${name}`,
      'POST',
      headers,
      body,
      signal,
    );
    storeCookies(s.webCookies, raw.headers.getSetCookie());
    return raw;
  }

  private async send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Raw> {
    try {
      const res = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (e) {
      if (isTransientNetworkError(e))
        throw new TransientError(`iCloud sign-in: network error`, { cause: e });
      throw e;
    }
  }

  private authFailure(r: Raw, where: string): ConnectorError {
    const body = parseJson(r.text) as {
      serviceErrors?: Array<{ code?: string; message?: string }>;
    };
    const se = body.serviceErrors?.[0];
    if (r.status === 403 && se?.code === '-20209') {
      throw new ICloudSignInError(
        'account-locked',
        se.message ?? 'This Apple ID has been locked.',
        { providerCode: se.code },
      );
    }
    if (r.status === 401 && where === 'signin/init') {
      // A 401 at init is a stale auth context, not a wrong password.
      return new TransientError('Apple rejected the sign-in context (stale session); try again.');
    }
    return mapHttpError({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: r.text,
      where,
    });
  }
}

function clone(s: ICloudSession): ICloudSession {
  return { ...s, authCookies: { ...s.authCookies }, webCookies: { ...s.webCookies } };
}

function parseJson(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}
