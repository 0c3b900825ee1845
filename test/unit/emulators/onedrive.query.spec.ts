import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../../../emulators/onedrive/onedrive-emulator.js';

/**
 * Issue 20, OneDrive query options on driveItem collections, raw over HTTP: `$orderby` and
 * `$filter` as the OneDrive API documents them (filtering-results, list-children), `search(q=)`,
 * and Graph's error body for what the service does not support, never a silent success.
 */
interface Item {
  id: string;
  name: string;
  size: number;
  file?: unknown;
  folder?: unknown;
}
interface Page {
  value: Item[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}
interface GraphError {
  error: { code: string; message: string; innerError: { 'request-id': string } };
}

describe('onedrive emulator: $orderby, $filter, search and what is refused', () => {
  let emu: OneDriveEmulator;
  let api: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emu = await startOneDriveEmulator({});
    emu.control.setPublicUrls({ graph: emu.baseUrl });
    api = `${emu.baseUrl}/v1.0`;
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    await emu.seed.file('q/b.txt', 'bb', { modifiedAt: new Date('2024-01-03T00:00:00Z') });
    await emu.seed.file('q/a.txt', 'aaaa', { modifiedAt: new Date('2024-01-01T00:00:00Z') });
    await emu.seed.file('q/c.jpg', 'c', { modifiedAt: new Date('2024-01-02T00:00:00Z') });
    await emu.seed.file('q/sub/deep vacation.txt', 'deep');
  });

  afterAll(async () => {
    await emu.stop();
  });

  async function get(path: string): Promise<Response> {
    return fetch(`${api}${path}`, { headers: auth });
  }
  async function names(path: string): Promise<string[]> {
    const res = await get(path);
    expect(res.status).toBe(200);
    return ((await res.json()) as Page).value.map((i) => i.name);
  }
  async function refused(path: string, code: string): Promise<string> {
    const res = await get(path);
    expect(res.status).toBe(400);
    const body = (await res.json()) as GraphError;
    expect(body.error.code).toBe(code);
    expect(body.error.innerError['request-id']).toEqual(expect.any(String));
    return body.error.message;
  }

  it('should order children by name, size and lastModifiedDateTime, asc and desc', async () => {
    const base = '/me/drive/root:/q:/children';
    expect(await names(`${base}?$orderby=name desc`)).toEqual(['sub', 'c.jpg', 'b.txt', 'a.txt']);
    expect(await names(`${base}?$orderby=size asc&$filter=file ne null`)).toEqual([
      'c.jpg',
      'b.txt',
      'a.txt',
    ]);
    expect(await names(`${base}?$orderby=lastModifiedDateTime desc&$filter=file ne null`)).toEqual([
      'b.txt',
      'c.jpg',
      'a.txt',
    ]);
  });

  it('should page an ordered listing with nextLink keeping $orderby, $select and $top', async () => {
    const first = await get('/me/drive/root:/q:/children?$orderby=name desc&$top=3&$select=name');
    const page1 = (await first.json()) as Page;
    expect(page1.value.map((i) => i.name)).toEqual(['sub', 'c.jpg', 'b.txt']);
    expect(Object.keys(page1.value[0]!).sort()).toEqual(['id', 'name']);
    const next = new URL(page1['@odata.nextLink']!);
    expect(next.searchParams.get('$orderby')).toBe('name desc');
    const page2 = (await (await fetch(next, { headers: auth })).json()) as Page;
    expect(page2.value.map((i) => i.name)).toEqual(['a.txt']);
    expect(page2['@odata.nextLink']).toBeUndefined();
  });

  it('should filter children with eq, ne, gt, le, and, or, parentheses and facets', async () => {
    const base = '/me/drive/root:/q:/children?$orderby=name&$filter=';
    expect(await names(`${base}name eq 'b.txt'`)).toEqual(['b.txt']);
    expect(await names(`${base}folder ne null`)).toEqual(['sub']);
    expect(await names(`${base}size gt 1 and file ne null`)).toEqual(['a.txt', 'b.txt']);
    expect(await names(`${base}(name eq 'a.txt' or name eq 'c.jpg') and size le 1`)).toEqual([
      'c.jpg',
    ]);
    expect(await names(`${base}lastModifiedDateTime lt 2024-01-02T12:00:00Z`)).toEqual([
      'a.txt',
      'c.jpg',
    ]);
    expect(await names(`${base}file/mimeType eq 'image/jpeg'`)).toEqual(['c.jpg']);
  });

  it('should search a folder hierarchy with search(q=) and take $top, $select and $orderby', async () => {
    expect(await names("/me/drive/root/search(q='vacation')")).toEqual(['deep vacation.txt']);
    expect(await names("/me/drive/root:/q:/search(q='.txt')?$orderby=name")).toEqual([
      'a.txt',
      'b.txt',
      'deep vacation.txt',
    ]);
    const res = await get("/me/drive/root/search(q='.txt')?$top=1&$select=name");
    const page = (await res.json()) as Page;
    expect(page.value).toHaveLength(1);
    expect(page['@odata.nextLink']).toContain('search');
    expect(await names("/me/drive/root/search(q='it''s not there')")).toEqual([]);
  });

  it('should refuse what the service does not support with Graph error bodies', async () => {
    expect(
      await refused('/me/drive/root:/q:/children?$orderby=createdBy', 'invalidRequest'),
    ).toMatch(/createdBy/);
    await refused('/me/drive/root:/q:/children?$orderby=name sideways', 'invalidRequest');
    await refused('/me/drive/root:/q:/children?$filter=name eq', 'invalidRequest');
    await refused("/me/drive/root:/q:/children?$filter=startswith(name,'a')", 'invalidRequest');
    await refused("/me/drive/root:/q:/children?$filter=not (name eq 'a')", 'invalidRequest');
    await refused('/me/drive/root:/q:/children?$search=vacation', 'notSupported');
    await refused('/me/drive/root:/q:/children?$count=true', 'notSupported');
    await refused('/me/drive/root:/q:/children?$skip=2', 'notSupported');
    await refused('/me/drive/root:/q:?$orderby=name', 'notSupported');
    await refused("/me/drive/root:/q:?$filter=name eq 'q'", 'notSupported');
    await refused('/drives/' + emu.drive.id + '/root/delta?$orderby=name', 'notSupported');
    await refused(
      '/drives/' + emu.drive.id + "/root/delta?$filter=name eq 'a.txt'",
      'notSupported',
    );
    await refused('/me/drive/root/search(q=vacation)', 'invalidRequest');
  });

  it('should keep delta paging and tokens right with $select and $top', async () => {
    const drive = emu.drive.id;
    let url: string | undefined = `${api}/drives/${drive}/root/delta?$select=name,size&$top=2`;
    const seen: string[] = [];
    let deltaLink: string | undefined;
    while (url) {
      const page = (await (await fetch(url, { headers: auth })).json()) as Page;
      for (const i of page.value) {
        expect(Object.keys(i).every((k) => ['id', 'name', 'size'].includes(k))).toBe(true);
        seen.push(i.name);
      }
      url = page['@odata.nextLink'];
      deltaLink = page['@odata.deltaLink'];
    }
    expect(seen).toEqual(expect.arrayContaining(['a.txt', 'b.txt', 'c.jpg', 'deep vacation.txt']));
    expect(new URL(deltaLink!).searchParams.get('$select')).toBe('name,size');
    await emu.seed.file('q/new.txt', 'n');
    const after = (await (await fetch(deltaLink!, { headers: auth })).json()) as Page;
    expect(after.value.map((i) => i.name)).toContain('new.txt');
  });
});

describe('onedrive emulator: OneDrive for Business filters only on name and url', () => {
  let emu: OneDriveEmulator;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emu = await startOneDriveEmulator({ driveType: 'business' });
    auth = { Authorization: `Bearer ${emu.credentials.accessToken}` };
    await emu.seed.file('x/one.txt', '1');
    await emu.seed.file('x/two.txt', '22');
  });

  afterAll(async () => {
    await emu.stop();
  });

  it('should filter on name, and answer notSupported on size and on $orderby=size', async () => {
    const base = `${emu.baseUrl}/v1.0/me/drive/root:/x:/children`;
    const ok = await fetch(`${base}?$filter=name eq 'two.txt'`, { headers: auth });
    expect(((await ok.json()) as Page).value.map((i) => i.name)).toEqual(['two.txt']);
    const bySize = await fetch(`${base}?$filter=size gt 1`, { headers: auth });
    expect(bySize.status).toBe(400);
    expect(((await bySize.json()) as GraphError).error.code).toBe('notSupported');
    const order = await fetch(`${base}?$orderby=size`, { headers: auth });
    expect(order.status).toBe(400);
    expect(((await order.json()) as GraphError).error.code).toBe('notSupported');
  });
});
