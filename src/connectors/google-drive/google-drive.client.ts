import {
  auth as googleAuth,
  drive as driveApi,
  type drive_v3,
} from 'googleapis/build/src/apis/drive/index.js';
import type { ConnectorSecrets } from '../connector-descriptor.js';
import { AuthExpiredError } from '../connector.errors.js';
import type { Pacer } from '../pacer/pacer.js';
import { httpStatusOf, mapDriveError } from './google-drive.errors.js';
import { DEFAULT_API_BASE_URL, type GoogleDriveOptions } from './google-drive.options.js';

export type OAuth2Client = InstanceType<typeof googleAuth.OAuth2>;
type RequestOptions = Parameters<OAuth2Client['request']>[0];
type Adapter = NonNullable<RequestOptions['adapter']>;

/** What the hand-made requests need from a gaxios response (gaxios 7: WHATWG Headers). */
export interface RawResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

/** Token endpoints of an OAuth client pointed at `options` (the emulator or Google). */
export function createOAuthClient(
  o: Pick<
    GoogleDriveOptions,
    'clientId' | 'clientSecret' | 'tokenUrl' | 'authorizeUrl' | 'revokeUrl'
  >,
): OAuth2Client {
  return new googleAuth.OAuth2({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    endpoints: {
      oauth2TokenUrl: o.tokenUrl,
      oauth2AuthBaseUrl: o.authorizeUrl,
      oauth2RevokeUrl: o.revokeUrl,
      tokenInfoUrl: new URL('/tokeninfo', o.tokenUrl).toString(),
    },
  });
}

/**
 * gaxios adapter that swaps the origin of every Drive request for the configured one, just before
 * it is sent. Per-API `rootUrl` keeps the media upload URL on googleapis.com and drops path
 * prefixes (google-api-nodejs-client #1921, nodejs-googleapis-common #351); an adapter sees the
 * final URL of metadata calls, media uploads, downloads and session URIs alike.
 */
export function originRewriter(apiBaseUrl: string): Adapter | undefined {
  if (apiBaseUrl === DEFAULT_API_BASE_URL) return undefined;
  const target = apiBaseUrl.replace(/\/+$/, '');
  return (opts, next) => {
    const url = String(opts.url);
    if (url.startsWith(DEFAULT_API_BASE_URL))
      opts.url = new URL(target + url.slice(DEFAULT_API_BASE_URL.length));
    return next(opts);
  };
}

/**
 * The googleapis Drive client plus the hand-made requests it lacks (resumable uploads), all going
 * through one pacer. Built-in gaxios retries are off (`retry: false`): they ignore Retry-After and
 * would replay consumed request streams; the pacer decides instead.
 */
export class GoogleDriveClient {
  readonly drive: drive_v3.Drive;
  readonly auth: OAuth2Client;
  private readonly adapter: Adapter | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    options: GoogleDriveOptions,
    readonly pacer: Pacer,
    saveSecrets: (s: ConnectorSecrets) => Promise<void>,
  ) {
    this.auth = createOAuthClient(options);
    // A known expiry stops google-auth-library from "refresh and retry" on every 401/403 (a 403
    // is often a rate limit); unknown expiry with a refresh token: refresh before the first call.
    const expiry =
      options.accessTokenExpiresAt ?? (options.refreshToken ? 1 : Date.now() + 3600_000);
    this.auth.setCredentials({
      refresh_token: options.refreshToken,
      access_token: options.accessToken,
      expiry_date: options.accessToken ? expiry : 1,
    });
    this.auth.on('tokens', (t) => {
      const secrets: ConnectorSecrets = {};
      if (t.access_token) secrets.accessToken = t.access_token;
      if (t.expiry_date) secrets.accessTokenExpiresAt = String(t.expiry_date);
      if (t.refresh_token) secrets.refreshToken = t.refresh_token; // usually absent: keep the old one
      // Persisting is best effort: the token still works in memory for this run.
      saveSecrets(secrets).catch(() => undefined);
    });
    this.adapter = originRewriter(options.apiBaseUrl);
    const apiOptions: drive_v3.Options = { version: 'v3', auth: this.auth, retry: false };
    // googleapis-common bundles its own gaxios copy: same adapter contract, distinct types.
    if (this.adapter) apiOptions.adapter = this.adapter as unknown as drive_v3.Options['adapter'];
    this.drive = driveApi(apiOptions);
  }

  /**
   * Runs `fn` under the pacer. A 401 refreshes the access token once and tries again; a second 401
   * (or a refused refresh) is AuthExpiredError. Errors come out mapped to connector errors.
   */
  call<T>(label: string, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.pacer.call(
      label,
      async () => {
        try {
          return await fn();
        } catch (e) {
          if (httpStatusOf(e) !== 401) throw mapDriveError(e, what);
        }
        await this.refreshAccessToken();
        try {
          return await fn();
        } catch (e) {
          if (httpStatusOf(e) === 401) {
            throw new AuthExpiredError(
              `google-drive: a freshly refreshed token was rejected during ${what}; re-authentication needed`,
              { cause: e },
            );
          }
          throw mapDriveError(e, what);
        }
      },
      signal,
    );
  }

  /** A raw authenticated request (resumable sessions) with the same origin rewrite and no retries. */
  async request<T = unknown>(opts: RequestOptions): Promise<RawResponse<T>> {
    const res = await this.auth.request<T>({
      ...opts,
      retry: false,
      ...(this.adapter ? { adapter: this.adapter } : {}),
    });
    return res as unknown as RawResponse<T>;
  }

  /** Forces a refresh; concurrent callers share one. */
  refreshAccessToken(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const refreshToken = this.auth.credentials.refresh_token;
    if (!refreshToken) {
      throw new AuthExpiredError(
        'google-drive: the access token expired and no refresh token is stored; re-authentication needed',
      );
    }
    this.auth.setCredentials({ refresh_token: refreshToken, expiry_date: 1 });
    try {
      await this.auth.getAccessToken();
    } catch (e) {
      // invalid_grant -> AuthExpiredError; a network failure stays retryable.
      throw mapDriveError(e, 'token refresh');
    }
  }
}
