import { Dropbox, DropboxAuth, DropboxResponseError, type DropboxResponse } from 'dropbox';
import type { Clock } from '../../common/clock.js';
import { AuthExpiredError } from '../connector.errors.js';
import type { Pacer } from '../pacer/pacer.js';
import type { DropboxFileMetadata } from './api/types.js';
import { isExpiredAccessToken, mapDropboxError, type DropboxOperation } from './dropbox.errors.js';
import { readText, requestDownload, type DownloadAnswer } from './dropbox.download.js';
import { createDropboxFetch, type FetchLike } from './dropbox.fetch.js';
import { type DropboxHosts, type DropboxTokens } from './dropbox.options.js';

/** The SDK refreshes when the token expires within 5 minutes; we use the same margin. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface DropboxClientOptions {
  clientId: string;
  clientSecret?: string;
  tokens: DropboxTokens;
  hosts: DropboxHosts;
  pacer: Pacer;
  clock: Clock;
  /** Underlying fetch (global fetch by default). */
  fetch?: FetchLike;
  /** Persists a refreshed access token. */
  onTokens?: (tokens: DropboxTokens) => Promise<void>;
}

export interface DownloadResponse {
  res: DownloadAnswer;
  metadata: DropboxFileMetadata;
}

/**
 * Thin wrapper over the `dropbox` SDK: every call goes through the pacer, with a fresh token (one
 * refresh in flight at a time), the caller's AbortSignal, and errors mapped to connector errors.
 * A 401 expired_access_token is refreshed once and retried; a second one is AuthExpiredError.
 * Downloads bypass the SDK (its filesDownload buffers the whole file) and POST to the documented
 * content endpoint through Node's http client (`requestDownload`: no web-stream copy per chunk).
 */
export class DropboxClient {
  readonly sdk: Dropbox;
  private readonly auth: DropboxAuth;
  /** An SDK whose requests carry the signal, per signal (a run's calls share one). */
  private readonly sdks = new WeakMap<AbortSignal, Dropbox>();
  private readonly fetch: FetchLike;
  private refreshing: Promise<void> | undefined;
  private savedToken: string | undefined;

  constructor(private readonly opts: DropboxClientOptions) {
    this.fetch = createDropboxFetch(opts.hosts, opts.fetch);
    this.auth = new DropboxAuth({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      refreshToken: opts.tokens.refreshToken,
      accessToken: opts.tokens.accessToken,
      accessTokenExpiresAt: opts.tokens.accessTokenExpiresAt,
      fetch: this.fetch,
    });
    this.sdk = new Dropbox({ auth: this.auth, fetch: this.fetch });
    this.savedToken = opts.tokens.accessToken;
  }

  get pacer(): Pacer {
    return this.opts.pacer;
  }

  /** An SDK route call, paced and retried, its result unwrapped, errors mapped. */
  call<T>(
    label: string,
    what: string,
    op: DropboxOperation,
    fn: (sdk: Dropbox) => Promise<DropboxResponse<T>>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.opts.pacer.call(
      label,
      async () => {
        try {
          return (await this.attempt(signal, fn)).result;
        } catch (e) {
          throw mapDropboxError(e, what, op);
        }
      },
      signal,
    );
  }

  /**
   * One attempt with a fresh token and the refresh-once rule, errors NOT mapped (callers that
   * read `incorrect_offset` need the raw answer).
   */
  async attempt<T>(signal: AbortSignal | undefined, fn: (sdk: Dropbox) => Promise<T>): Promise<T> {
    await this.ensureToken(signal);
    const used = this.auth.getAccessToken();
    try {
      return await fn(this.sdkFor(signal));
    } catch (e) {
      if (!isExpiredAccessToken(e)) throw e;
      if (!this.canRefresh) {
        throw new AuthExpiredError(
          'the Dropbox access token expired and no refresh token is stored: reconnect the account',
          { cause: e, providerCode: 'expired_access_token' },
        );
      }
      // Another call may have refreshed meanwhile; otherwise refresh now.
      if (this.auth.getAccessToken() === used) await this.refresh(signal);
      try {
        return await fn(this.sdkFor(signal));
      } catch (e2) {
        if (isExpiredAccessToken(e2)) {
          throw new AuthExpiredError(
            'Dropbox still rejects a freshly refreshed access token: re-authentication needed',
            { cause: e2, providerCode: 'expired_access_token' },
          );
        }
        throw e2;
      }
    } finally {
      await this.persistTokenIfChanged();
    }
  }

  /** POST content/2/files/download with the arg header and an optional Range: a streaming body. */
  async download(
    arg: { path: string },
    range: { start: number; end?: number } | undefined,
    signal?: AbortSignal,
  ): Promise<DownloadResponse> {
    return this.attempt(signal, async () => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${this.auth.getAccessToken() ?? ''}`,
        'Dropbox-API-Arg': httpHeaderSafeJson(arg),
      };
      if (range) headers.Range = `bytes=${range.start}-${range.end ?? ''}`;
      const res = await requestDownload(
        `${this.opts.hosts.content.replace(/\/+$/, '')}/2/files/download`,
        headers,
        signal,
      );
      if (res.status === 200 || res.status === 206) {
        const raw = res.headers.get('dropbox-api-result');
        if (!raw) {
          res.body.destroy();
          throw new DropboxResponseError(
            502,
            res.headers,
            'download answer without a Dropbox-API-Result header',
          );
        }
        return { res, metadata: JSON.parse(raw) as DropboxFileMetadata };
      }
      const text = await readText(res.body);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // 400s and 416 are plain text
      }
      throw new DropboxResponseError(res.status, res.headers, body);
    });
  }

  /** Token endpoint POST through the same fetch (used by the OAuth code exchange). */
  rawFetch(url: string, init: RequestInit): Promise<Response> {
    return this.fetch(url, init);
  }

  /**
   * The SDK for calls under `signal`: its requests carry it. No async context carries it (an
   * AsyncLocalStorage would put promise hooks on every promise of the engine: issue #21).
   */
  private sdkFor(signal: AbortSignal | undefined): Dropbox {
    if (!signal) return this.sdk;
    let sdk = this.sdks.get(signal);
    if (!sdk) {
      const fetch = createDropboxFetch(this.opts.hosts, this.opts.fetch, signal);
      this.sdks.set(signal, (sdk = new Dropbox({ auth: this.auth, fetch })));
    }
    return sdk;
  }

  private get canRefresh(): boolean {
    return Boolean(this.auth.getRefreshToken() && this.auth.getClientId());
  }

  private async ensureToken(signal: AbortSignal | undefined): Promise<void> {
    const token = this.auth.getAccessToken();
    const expiresAt = this.auth.getAccessTokenExpiresAt();
    const stale =
      !token ||
      !expiresAt ||
      expiresAt.getTime() - REFRESH_MARGIN_MS <= this.opts.clock.now().getTime();
    if (!stale) return;
    if (!this.canRefresh) {
      if (token) return; // a bare access token without expiry: use it until Dropbox says otherwise
      throw new AuthExpiredError('no Dropbox token is stored: connect the account first');
    }
    await this.refresh(signal);
  }

  /** One refresh at a time for all concurrent calls; invalid_grant becomes AuthExpiredError. */
  private refresh(signal: AbortSignal | undefined): Promise<void> {
    // The SDK's typings say void; at run time it returns the token request's promise.
    const start = () => this.auth.refreshAccessToken() as unknown as Promise<void>;
    const p: Promise<void> = (this.refreshing ??= start()
      .catch((e: unknown) => {
        throw mapDropboxError(e, 'oauth2/token', 'auth');
      })
      .finally(() => {
        this.refreshing = undefined;
      }));
    if (!signal) return p;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async persistTokenIfChanged(): Promise<void> {
    const token = this.auth.getAccessToken();
    if (!token || token === this.savedToken || !this.opts.onTokens) return;
    this.savedToken = token;
    try {
      await this.opts.onTokens({
        accessToken: token,
        accessTokenExpiresAt: this.auth.getAccessTokenExpiresAt(),
        refreshToken: this.auth.getRefreshToken(),
      });
    } catch {
      // The vault write failing must not fail a transfer: the refresh token does not rotate, so
      // the next start simply refreshes again.
      this.savedToken = undefined;
    }
  }
}

/** As the SDK does: header values must be ASCII, so U+007F and above travel as \uXXXX. */
export function httpHeaderSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
