import { ICloudAuthService } from '../../../src/connectors/icloud-photos/icloud-auth.service.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../emulators/icloud-photos/icloud-photos.emulator.js';

/**
 * Issue 20, iCloud CloudKit `records/query` filters, raw over HTTP after a real sign-in: the filter
 * dictionaries of CloudKit Web Services (`comparator`, `fieldName`, `fieldValue`) as each Photos
 * index takes them, and CloudKit's BAD_REQUEST (`serverErrorCode`, `reason`) for a field or a
 * comparator an index does not take, instead of ignoring it or reading it as EQUALS.
 */
interface CkRecord {
  recordType: string;
  recordName: string;
  fields: Record<string, { value: unknown }>;
}
interface CkError {
  serverErrorCode: string;
  reason: string;
}
type Filter = {
  fieldName: string;
  comparator: string;
  fieldValue: { type?: string; value: unknown };
};

describe('icloud-photos emulator: CloudKit query filters', () => {
  let emu: ICloudPhotosEmulator;
  let db: string;
  let jar: string;

  beforeAll(async () => {
    emu = await startICloudPhotosEmulator({ librarySize: 30, iterations: 1000 });
    const auth = new ICloudAuthService({
      authBaseUrl: `${emu.baseUrl}/appleauth/auth`,
      setupBaseUrl: `${emu.baseUrl}/setup/ws/1`,
      webOrigin: 'https://www.icloud.com',
    });
    let { session } = await auth.signIn(emu.credentials.appleId, emu.credentials.password);
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
    jar = res.headers
      .getSetCookie()
      .map((l) => l.split(';')[0]!)
      .filter((p) => !p.endsWith('=""'))
      .join('; ');
    const ck = ((await res.json()) as { webservices: { ckdatabasews: { url: string } } })
      .webservices.ckdatabasews.url;
    db = `${ck}/database/1/com.apple.photos.cloud/production/private`;
  });

  afterAll(async () => {
    await emu.stop();
  });

  async function post(recordType: string, filterBy: unknown, limit = 200): Promise<Response> {
    return fetch(`${db}/records/query?remapEnums=true`, {
      method: 'POST',
      headers: { Cookie: jar, 'Content-Type': 'text/plain' },
      body: JSON.stringify({
        query: { recordType, filterBy },
        zoneID: { zoneName: 'PrimarySync' },
        resultsLimit: limit,
      }),
    });
  }
  async function records(recordType: string, filterBy: Filter[], limit = 200): Promise<CkRecord[]> {
    const res = await post(recordType, filterBy, limit);
    expect(res.status).toBe(200);
    return ((await res.json()) as { records: CkRecord[] }).records;
  }
  async function badRequest(recordType: string, filterBy: unknown): Promise<string> {
    const res = await post(recordType, filterBy);
    expect(res.status).toBe(400);
    const body = (await res.json()) as CkError;
    expect(body.serverErrorCode).toBe('BAD_REQUEST');
    return body.reason;
  }
  const f = (fieldName: string, comparator: string, type: string, value: unknown): Filter => ({
    fieldName,
    comparator,
    fieldValue: { type, value },
  });
  const ALL = 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted';

  it('should count several indexes with indexCountID IN a list', async () => {
    const ids = [
      'CPLAssetByAssetDateWithoutHiddenOrDeleted',
      'CPLAssetInSmartAlbumByAssetDate:Favorite',
    ];
    const out = await records('HyperionIndexCountLookup', [
      f('indexCountID', 'IN', 'STRING_LIST', ids),
    ]);
    expect(out.map((r) => r.recordName)).toEqual(ids);
    const all = out[0]!.fields.itemCount!.value as number;
    const favourites = out[1]!.fields.itemCount!.value as number;
    expect(all).toBeGreaterThan(favourites);
    expect(favourites).toBeGreaterThan(0);
  });

  it('should serve a smart album (favourites) by smartAlbum EQUALS', async () => {
    const favs = await records('CPLAssetAndMasterInSmartAlbumByAssetDate', [
      f('startRank', 'EQUALS', 'INT64', 0),
      f('direction', 'EQUALS', 'STRING', 'ASCENDING'),
      f('smartAlbum', 'EQUALS', 'STRING', 'FAVORITE'),
    ]);
    const assets = favs.filter((r) => r.recordType === 'CPLAsset');
    expect(assets.length).toBeGreaterThan(0);
    expect(assets.every((a) => a.fields.isFavorite?.value === 1)).toBe(true);
  });

  it('should refuse an unknown field with BAD_REQUEST naming it', async () => {
    expect(
      await badRequest(ALL, [
        f('startRank', 'EQUALS', 'INT64', 0),
        f('isFavorite', 'EQUALS', 'INT64', 1),
      ]),
    ).toMatch(/isFavorite/);
  });

  it('should refuse comparators an index parameter does not take, and unknown ones', async () => {
    expect(await badRequest(ALL, [f('startRank', 'GREATER_THAN', 'INT64', 3)])).toMatch(
      /GREATER_THAN/,
    );
    expect(await badRequest(ALL, [f('direction', 'NOT_EQUALS', 'STRING', 'ASCENDING')])).toMatch(
      /NOT_EQUALS/,
    );
    expect(await badRequest(ALL, [f('startRank', 'ROUGHLY', 'INT64', 0)])).toMatch(/ROUGHLY/);
  });

  it('should refuse malformed filter dictionaries and values', async () => {
    await badRequest(ALL, [{ fieldName: 'startRank', fieldValue: { value: 0 } }]);
    await badRequest(ALL, [{ comparator: 'EQUALS', fieldName: 'startRank' }]);
    await badRequest(ALL, 'startRank=0');
    await badRequest(ALL, [f('startRank', 'EQUALS', 'INT64', 'zero')]);
    await badRequest(ALL, [f('direction', 'EQUALS', 'STRING', 'SIDEWAYS')]);
    await badRequest(ALL, [f('startRank', 'EQUALS', 'STRING', 0)]);
    await badRequest('CPLAssetAndMasterInSmartAlbumByAssetDate', [
      f('smartAlbum', 'EQUALS', 'STRING', 'NOT_AN_ALBUM'),
    ]);
  });

  it('should still page the whole library with startRank and direction', async () => {
    const asc = await records(ALL, [
      f('startRank', 'EQUALS', 'INT64', 0),
      f('direction', 'EQUALS', 'STRING', 'ASCENDING'),
    ]);
    const desc = await records(ALL, [
      f('startRank', 'EQUALS', 'INT64', 0),
      f('direction', 'EQUALS', 'STRING', 'DESCENDING'),
    ]);
    const ids = (rs: CkRecord[]) =>
      rs.filter((r) => r.recordType === 'CPLAsset').map((r) => r.recordName);
    expect(ids(desc)).toEqual([...ids(asc)].reverse());
  });
});
