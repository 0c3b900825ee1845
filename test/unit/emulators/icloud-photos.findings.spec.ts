import { randomBytes } from 'node:crypto';
import { ICloudAuthService } from '../../../src/connectors/icloud-photos/icloud-auth.service.js';
import {
  startICloudPhotosEmulator,
  WIDGET_KEY,
  type ICloudPhotosEmulator,
} from '../../../emulators/icloud-photos/icloud-photos.emulator.js';

interface Cookie {
  name: string;
  value: string;
  domain?: string;
  secure: boolean;
}

function parseSetCookie(line: string): Cookie {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const eq = pair!.indexOf('=');
  const c: Cookie = { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), secure: false };
  for (const a of attrs) {
    const [k, v] = a.split('=');
    if (k!.toLowerCase() === 'domain') c.domain = v!.replace(/^\./, '').toLowerCase();
    if (k!.toLowerCase() === 'secure') c.secure = true;
  }
  return c;
}

/** RFC 6265 5.4: would a cookie jar send this cookie (set by `setBy`) to `url`? */
function sentTo(c: Cookie, setBy: string, url: string): boolean {
  const u = new URL(url);
  if (c.secure && u.protocol !== 'https:') return false;
  if (c.domain === undefined) return u.hostname === new URL(setBy).hostname;
  return u.hostname === c.domain || u.hostname.endsWith(`.${c.domain}`);
}

/**
 * Issue 20, iCloud Photos: each request exactly as an independent client sends it, raw over HTTP.
 * The sign-in itself (SRP) goes through the connector's auth service; what follows is raw.
 */
describe('icloud-photos emulator: what real clients send', () => {
  let emu: ICloudPhotosEmulator;

  afterEach(async () => {
    await emu.stop();
  });

  async function accountLogin(): Promise<{ res: Response; cookies: Cookie[] }> {
    // The connector's SRP against this server's own address, whatever names it hands out.
    const auth = new ICloudAuthService({
      authBaseUrl: `${emu.baseUrl}/appleauth/auth`,
      setupBaseUrl: `${emu.baseUrl}/setup/ws/1`,
      webOrigin: 'https://www.icloud.com',
    });
    const { appleId, password } = emu.credentials;
    let { session } = await auth.signIn(appleId, password);
    if (!session.trustToken) {
      const asked = await auth.requestCode(session);
      ({ session } = await auth.submitCode(asked, emu.control.lastSecurityCode()!));
    }
    const res = await fetch(`${emu.baseUrl}/setup/ws/1/accountLogin`, {
      method: 'POST',
      headers: { Origin: 'https://www.icloud.com', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        accountCountryCode: 'USA',
        dsWebAuthToken: session.sessionToken,
        extended_login: true,
        trustToken: session.trustToken,
      }),
    });
    expect(res.status).toBe(200);
    return { res, cookies: res.headers.getSetCookie().map(parseSetCookie) };
  }

  const cookieHeader = (cookies: Cookie[]) =>
    cookies
      .filter((c) => c.value !== '""')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');

  it('should set the aasp cookie on idmsa answers', async () => {
    emu = await startICloudPhotosEmulator({ librarySize: 2, iterations: 1000 });
    const res = await fetch(`${emu.authBaseUrl}/signin/init`, {
      method: 'POST',
      headers: {
        'X-Apple-Widget-Key': WIDGET_KEY,
        'X-Apple-OAuth-Client-Id': WIDGET_KEY,
        'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
        'Content-Type': 'application/json',
        Accept: 'application/json, text/javascript',
      },
      body: JSON.stringify({
        a: randomBytes(256).toString('base64'),
        accountName: emu.credentials.appleId,
        protocols: ['s2k', 's2k_fo'],
      }),
    });
    expect(res.status).toBe(200);
    const aasp = res.headers
      .getSetCookie()
      .map(parseSetCookie)
      .find((c) => c.name === 'aasp');
    expect(aasp?.value).toMatch(/^[0-9A-F]{32}$/);
  });

  it('should set the PCS cookies at accountLogin, and answer requestPCS, no-dsid CloudKit, album positions and logout', async () => {
    emu = await startICloudPhotosEmulator({ librarySize: 30, iterations: 1000 });
    const { res, cookies } = await accountLogin();
    const names = cookies.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['X-APPLE-WEBAUTH-PCS-Photos', 'X-APPLE-WEBAUTH-PCS-Sharing']),
    );
    const body = (await res.json()) as { webservices: { ckdatabasews: { url: string } } };
    const ck = body.webservices.ckdatabasews.url;
    const jar = cookieHeader(cookies);

    const pcs = await fetch(`${emu.setupBaseUrl}/requestPCS`, {
      method: 'POST',
      headers: { Cookie: jar, 'Content-Type': 'application/json' },
      body: JSON.stringify({ appName: 'photos', derivedFromUserAction: true }),
    });
    expect(pcs.status).toBe(200);
    expect(await pcs.json()).toMatchObject({ status: 'success' });

    const db = `${ck}/database/1/com.apple.photos.cloud/production/private`;
    const zones = await fetch(`${db}/zones/list?remapEnums=true&getCurrentSyncToken=true`, {
      method: 'POST',
      headers: { Cookie: jar, 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(zones.status).toBe(200);

    const zoneID = { zoneName: 'PrimarySync' };
    const query = async (recordType: string, filterBy: unknown[] = []) => {
      const r = await fetch(`${db}/records/query?remapEnums=true`, {
        method: 'POST',
        headers: { Cookie: jar, 'Content-Type': 'text/plain' },
        body: JSON.stringify({ query: { recordType, filterBy }, zoneID, resultsLimit: 200 }),
      });
      expect(r.status).toBe(200);
      return (
        (await r.json()) as {
          records: Array<{
            recordType: string;
            recordName: string;
            fields: Record<string, { value: unknown }>;
          }>;
        }
      ).records;
    };
    const albums = await query('CPLAlbumByPositionLive');
    const holiday = albums.find(
      (a) => a.fields.albumNameEnc?.value === Buffer.from('Holiday').toString('base64'),
    )!;
    const eq = (fieldName: string, type: string, value: unknown) => ({
      fieldName,
      comparator: 'EQUALS',
      fieldValue: { type, value },
    });
    const members = await query('CPLContainerRelationLiveByPosition', [
      eq('parentId', 'STRING', holiday.recordName),
      eq('direction', 'STRING', 'ASCENDING'),
      eq('startRank', 'INT64', 0),
    ]);
    const relations = members.filter((r) => r.recordType === 'CPLContainerRelation');
    expect(relations.length).toBeGreaterThan(0);
    expect(members.filter((r) => r.recordType === 'CPLAsset')).toHaveLength(relations.length);

    const logout = await fetch(`${emu.setupBaseUrl}/logout`, {
      method: 'POST',
      headers: { Cookie: jar, 'Content-Type': 'application/json' },
      body: JSON.stringify({ trustBrowsers: true, allBrowsers: false }),
    });
    expect(logout.status).toBe(200);
    const cleared = logout.headers.getSetCookie().map(parseSetCookie);
    expect(cleared.find((c) => c.name === 'X-APPLE-WEBAUTH-TOKEN')?.value).toBe('""');
    const after = await fetch(`${db}/zones/list`, {
      method: 'POST',
      headers: { Cookie: jar },
      body: '{}',
    });
    expect(after.status).toBe(421);
  });

  it('should hand out web-service and download URLs that its cookies reach', async () => {
    // Default: everything on this server, cookies host-only and not Secure (plain http).
    emu = await startICloudPhotosEmulator({ librarySize: 2, iterations: 1000 });
    const local = await accountLogin();
    const localCk = ((await local.res.json()) as { webservices: { ckdatabasews: { url: string } } })
      .webservices.ckdatabasews.url;
    const token = local.cookies.find((c) => c.name === 'X-APPLE-WEBAUTH-TOKEN')!;
    expect(sentTo(token, emu.setupBaseUrl, `${localCk}/database/1/x`)).toBe(true);
    await emu.stop();

    // Behind a TLS front under the real names: Domain=.icloud.com; Secure, and https URLs there.
    emu = await startICloudPhotosEmulator({
      librarySize: 2,
      iterations: 1000,
      publicUrls: {
        setup: 'https://setup.icloud.com',
        ckdatabasews: 'https://p61-ckdatabasews.icloud.com:443',
        cdn: 'https://cvws.icloud-content.com',
      },
    });
    expect(emu.setupBaseUrl).toBe('https://setup.icloud.com/setup/ws/1');
    const front = await accountLogin();
    const ck = ((await front.res.json()) as { webservices: { ckdatabasews: { url: string } } })
      .webservices.ckdatabasews.url;
    expect(ck).toBe('https://p61-ckdatabasews.icloud.com:443');
    const fronted = front.cookies.find((c) => c.name === 'X-APPLE-WEBAUTH-TOKEN')!;
    expect(fronted).toMatchObject({ domain: 'icloud.com', secure: true });
    expect(sentTo(fronted, 'https://setup.icloud.com', `${ck}/database/1/x`)).toBe(true);
  });
});
