import { randomUUID } from 'node:crypto';
import type { ConnectorSecrets } from '../connector-descriptor.js';

/**
 * Everything a later run needs to talk to iCloud without a new verification code. Plain data,
 * serialisable into the vault through `sessionToSecrets`.
 */
export interface ICloudSession {
  appleId: string;
  /** `auth-<uuid>`: the web client id, reused forever (a new one looks like a new browser). */
  clientId: string;
  scnt?: string;
  sessionId?: string;
  sessionToken?: string;
  /** Lets sign-in skip the second factor until Apple lets it expire (about 30 days). */
  trustToken?: string;
  accountCountry?: string;
  authAttributes?: string;
  /** Cookies of the idmsa host (aasp, acn01...). */
  authCookies: Record<string, string>;
  /** Cookies of the .icloud.com hosts (X-APPLE-WEBAUTH-*), sent to setup and CloudKit. */
  webCookies: Record<string, string>;
  dsid?: string;
  ckdatabasewsUrl?: string;
  /** `webservices.photosupload.url` of accountLogin: the host of the current upload flow. */
  photosuploadUrl?: string;
}

export function newSession(appleId: string, previous?: ICloudSession): ICloudSession {
  // Keep the client id and trust token across a fresh sign-in: dropping them forces a new code.
  return {
    appleId,
    clientId: previous?.clientId ?? `auth-${randomUUID().toLowerCase()}`,
    trustToken: previous?.trustToken,
    authCookies: { ...(previous?.authCookies ?? {}) },
    webCookies: {},
  };
}

const STRING_KEYS = [
  'appleId',
  'clientId',
  'scnt',
  'sessionId',
  'sessionToken',
  'trustToken',
  'accountCountry',
  'authAttributes',
  'dsid',
  'ckdatabasewsUrl',
  'photosuploadUrl',
] as const;

/** Flat string map for the vault (`ctx.saveSecrets`). */
export function sessionToSecrets(s: ICloudSession): ConnectorSecrets {
  const out: ConnectorSecrets = {};
  for (const k of STRING_KEYS) if (s[k] !== undefined) out[k] = s[k];
  out.authCookies = JSON.stringify(s.authCookies);
  out.webCookies = JSON.stringify(s.webCookies);
  return out;
}

export function sessionFromSecrets(appleId: string, secrets: ConnectorSecrets): ICloudSession {
  const s = newSession(appleId);
  for (const k of STRING_KEYS) if (secrets[k] !== undefined && secrets[k] !== '') s[k] = secrets[k];
  s.appleId = appleId;
  s.authCookies = parseMap(secrets.authCookies);
  s.webCookies = parseMap(secrets.webCookies);
  return s;
}

function parseMap(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Stores Set-Cookie values into a jar (name -> value); expired/empty cookies are removed. */
export function storeCookies(jar: Record<string, string>, setCookies: string[]): void {
  for (const sc of setCookies) {
    const first = sc.split(';')[0] ?? '';
    const i = first.indexOf('=');
    if (i <= 0) continue;
    const name = first.slice(0, i).trim();
    const value = first.slice(i + 1).trim();
    const expired = /max-age=0(;|$)/i.test(sc) || /expires=Thu, 01 Jan 1970/i.test(sc);
    if (expired || value === '' || value === '""') delete jar[name];
    else jar[name] = value;
  }
}

export function cookieHeader(jar: Record<string, string>): string {
  return Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}
