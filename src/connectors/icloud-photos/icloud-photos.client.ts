import type { Clock } from '../../common/clock.js';
import {
  AuthExpiredError,
  isTransientNetworkError,
  TransientError,
  UnsupportedError,
} from '../connector.errors.js';
import type { Pacer } from '../pacer/pacer.js';
import { USER_AGENT, type ICloudAuthService } from './icloud-auth.service.js';
import { ckBodyError, isSessionGone, mapHttpError } from './icloud-photos.errors.js';
import type { ICloudEndpoints } from './icloud-photos.options.js';
import { cookieHeader, storeCookies, type ICloudSession } from './icloud-photos.session.js';
import type { CkRecord, CkZoneRef } from './api/types.js';

export type CkDb = 'private' | 'shared';

export interface ClientDeps {
  auth: ICloudAuthService;
  session: ICloudSession;
  password?: string;
  endpoints: ICloudEndpoints;
  pacer: Pacer;
  clock: Clock;
  saveSession(s: ICloudSession): Promise<void>;
  fetchImpl?: typeof fetch;
}

class SessionGone extends Error {}

/**
 * CloudKit `ckdatabasews` calls. Every call goes through the pacer; a dead web session (401/421)
 * triggers one shared re-authentication (validate -> accountLogin -> SRP with trust token) and
 * one retry, and a session that needs a human becomes AuthExpiredError.
 */
export class CloudKitClient {
  private session: ICloudSession;
  private reauthing?: Promise<void>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly deps: ClientDeps) {
    this.session = deps.session;
    this.fetchImpl = deps.fetchImpl ?? fetch;
  }

  currentSession(): ICloudSession {
    return this.session;
  }

  async call<T>(db: CkDb, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.withSession(
      `ck ${path}`,
      () =>
        `${this.session.ckdatabasewsUrl}/database/1/com.apple.photos.cloud/production/${db}/${path}`,
      `CloudKit ${path}`,
      body,
      signal,
    );
  }

  /**
   * `POST {photosupload}/photosupload/<path>` (brief §4.2: same query parameters and cookies as
   * CloudKit). The host comes from accountLogin's `webservices.photosupload`.
   */
  async uploadCall<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    if (!this.session.photosuploadUrl) await this.reauth(signal);
    if (!this.session.photosuploadUrl)
      throw new UnsupportedError(
        'iCloud did not offer the photosupload service to this account (accountLogin has no ' +
          'webservices.photosupload): uploads are not possible; restore to another location.',
      );
    return this.withSession(
      `upload ${path}`,
      () => `${this.session.photosuploadUrl}/photosupload/${path}`,
      `photosupload ${path}`,
      body,
      signal,
    );
  }

  private async withSession<T>(
    label: string,
    base: () => string,
    where: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    if (
      !this.session.ckdatabasewsUrl ||
      !this.session.dsid ||
      !this.session.webCookies['X-APPLE-WEBAUTH-TOKEN']
    ) {
      await this.reauth(signal);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.pacer.call(
          label,
          () => this.once<T>(base(), where, body, signal),
          signal,
        );
      } catch (e) {
        if (!(e instanceof SessionGone)) throw e;
        if (attempt > 0)
          throw new AuthExpiredError(
            'iCloud keeps rejecting a freshly signed-in session (401/421).',
          );
        await this.reauth(signal);
      }
    }
  }

  /** Records of one query; the body is the CloudKit JSON `records/query` body. */
  async query(db: CkDb, body: Record<string, unknown>, signal?: AbortSignal): Promise<QueryResult> {
    return this.call<QueryResult>(db, 'records/query', body, signal);
  }

  async lookup(
    db: CkDb,
    zone: CkZoneRef,
    recordNames: string[],
    signal?: AbortSignal,
  ): Promise<CkRecord[]> {
    const out: CkRecord[] = [];
    // Lookup batches are capped server-side ("array 'records' length is greater than max size").
    for (let i = 0; i < recordNames.length; i += 100) {
      const r = await this.call<{ records?: CkRecord[] }>(
        db,
        'records/lookup',
        {
          records: recordNames.slice(i, i + 100).map((recordName) => ({ recordName })),
          zoneID: zone,
        },
        signal,
      );
      out.push(...(r.records ?? []));
    }
    return out;
  }

  private async reauth(signal?: AbortSignal): Promise<void> {
    this.reauthing ??= (async () => {
      try {
        this.session = await this.deps.auth.resume(this.session, this.deps.password, signal);
        await this.deps.saveSession(this.session);
      } finally {
        this.reauthing = undefined;
      }
    })();
    await this.reauthing;
  }

  private async once<T>(
    base: string,
    where: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const s = this.session;
    const qs = new URLSearchParams({
      clientBuildNumber: '2522Project44',
      clientMasteringNumber: '2522B2',
      clientId: s.clientId,
      dsid: s.dsid ?? '',
      remapEnums: 'true',
      getCurrentSyncToken: 'true',
    });
    const url = `${base}?${qs.toString()}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'text/plain',
          Accept: 'application/json',
          Origin: this.deps.endpoints.webOrigin,
          Referer: `${this.deps.endpoints.webOrigin}/`,
          'User-Agent': USER_AGENT,
          Cookie: cookieHeader(s.webCookies),
        },
        body: JSON.stringify(body),
        signal,
      });
      text = await res.text();
    } catch (e) {
      if (isTransientNetworkError(e) || (e instanceof TypeError && !signal?.aborted)) {
        throw new TransientError(`${where}: network error`, { cause: e });
      }
      throw e;
    }
    storeCookies(s.webCookies, res.headers.getSetCookie());
    if (res.status !== 200) {
      if (isSessionGone(res.status)) throw new SessionGone(`HTTP ${res.status}`);
      throw mapHttpError(
        {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: text,
          where,
        },
        this.deps.clock.now().getTime(),
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TransientError(`${where} answered 200 with a body that is not JSON`);
    }
    const inBody = ckBodyError(where, parsed);
    if (inBody) throw inBody;
    return parsed as T;
  }
}

export interface QueryResult {
  records?: CkRecord[];
  syncToken?: string;
  continuationMarker?: string;
}
