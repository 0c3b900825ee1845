import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Entry } from '../../../../src/connectors/connector.js';
import {
  CursorExpiredError,
  UnsupportedError,
} from '../../../../src/connectors/connector.errors.js';
import { googleDriveConnectorDescriptor } from '../../../../src/connectors/google-drive/index.js';
import type { GoogleDriveConnector } from '../../../../src/connectors/google-drive/google-drive.connector.js';
import { systemClock } from '../../../../src/common/clock.js';
import { createGoogleDriveForTest } from '../../../support/connectors/google-drive.js';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../../../../emulators/google-drive/google-drive.emulator.js';

async function listAll(c: GoogleDriveConnector, dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of c.list(dir)) out.push(e);
  return out;
}

describe('google-drive connector features', () => {
  let emu: GoogleDriveEmulator;
  let sut: GoogleDriveConnector;

  beforeAll(async () => {
    emu = await startGoogleDriveEmulator();
    sut = createGoogleDriveForTest(emu);
  });

  afterAll(async () => {
    await emu.stop();
  });

  it('should list Google-native documents as office exports and download the export', async () => {
    const names = (await listAll(sut, 'Fixtures')).map((e) => e.name).sort();
    expect(names).toEqual([
      'Budget.xlsx',
      'Deck.pptx',
      'Project Plan.docx',
      'duplicate.txt',
      'notes.txt',
    ]);
    const doc = await sut.stat('Fixtures/Project Plan.docx');
    expect(doc.size).toBeUndefined();
    expect(doc.extras).toMatchObject({
      googleNative: true,
      exportMimeType: expect.stringContaining('wordprocessingml'),
    });
    const bytes = await buffer(await sut.read('Fixtures/Project Plan.docx'));
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(bytes.toString()).toContain('Milestones');
    const exportCall = emu.requestLog.find((r) => r.path.endsWith('/export'));
    expect(exportCall?.query.mimeType).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
  });

  it('should skip native documents with a reason when export is disabled', async () => {
    const noExport = createGoogleDriveForTest(emu, { config: { exportFormats: 'none' } });
    const budget = (await listAll(noExport, 'Fixtures')).find((e) => e.name === 'Budget');
    expect(budget?.extras?.skipReason).toBe('google-native document, export disabled');
    await expect(noExport.read('Fixtures/Budget')).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('should get 403 fileNotDownloadable from the emulator when a native document is fetched with alt=media', async () => {
    const doc = emu.findByPath('Fixtures/Budget')!;
    const res = await fetch(`${emu.baseUrl}/drive/v3/files/${doc.id}?alt=media`, {
      headers: { Authorization: `Bearer ${emu.credentials.accessToken}` },
    });
    expect(res.status).toBe(403);
    expect(
      ((await res.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]!
        .reason,
    ).toBe('fileNotDownloadable');
  });

  it('should resolve duplicate names to the oldest file and list the name once', async () => {
    const content = await buffer(await sut.read('Fixtures/duplicate.txt'));
    expect(content.toString()).toBe('older duplicate\n');
    const dups = (await listAll(sut, 'Fixtures')).filter((e) => e.name === 'duplicate.txt');
    expect(dups).toHaveLength(1);
    expect(dups[0]!.id).toBe(emu.findByPath('Fixtures/duplicate.txt')!.id);
  });

  it('should work inside a shared drive when sharedDriveId is set', async () => {
    const shared = createGoogleDriveForTest(emu, {
      config: { sharedDriveId: emu.sharedDrive!.id },
    });
    expect((await listAll(shared, '')).map((e) => e.name)).toEqual(['Shared Folder']);
    expect((await buffer(await shared.read('Shared Folder/readme.txt'))).toString()).toBe(
      'shared drive file\n',
    );
    await shared.write('Shared Folder/new.txt', Readable.from([Buffer.from('new')]), { size: 3 });
    expect(emu.findByPath('Shared Folder/new.txt', emu.sharedDrive!.id)?.driveId).toBe(
      emu.sharedDrive!.id,
    );
    const lists = emu.requestLog.filter(
      (r) => r.path === '/drive/v3/files' && r.query.driveId === emu.sharedDrive!.id,
    );
    expect(lists.length).toBeGreaterThan(0);
    expect(
      lists.every(
        (r) => r.query.includeItemsFromAllDrives === 'true' && r.query.corpora === 'drive',
      ),
    ).toBe(true);
    // My Drive does not show shared drive items.
    await expect(sut.stat('Shared Folder')).rejects.toThrow(/not found/);
  });

  it('should report a trashed file as a delete and a new nested file as an upsert when reading changes', async () => {
    await sut.write('feed2/a.txt', Readable.from([Buffer.from('a')]), { size: 1 });
    await sut.mkdir('feed2/sub');
    const cursor = await sut.currentCursor('');
    const file = emu.findByPath('feed2/a.txt')!;
    emu.store.setTrashed(file, true);
    await sut.write('feed2/sub/b.txt', Readable.from([Buffer.from('b')]), { size: 1 });
    const page = await sut.changes('feed2', cursor);
    expect(page.hasMore).toBe(false);
    expect(page.changes).toEqual(
      expect.arrayContaining([
        { type: 'delete', path: 'feed2/a.txt', id: file.id },
        { type: 'upsert', entry: expect.objectContaining({ path: 'feed2/sub/b.txt', size: 1 }) },
      ]),
    );
    const again = await sut.changes('feed2', page.cursor);
    expect(again.changes).toEqual([]);
  });

  it('should resolve the path of a change through parents it has never seen', async () => {
    const cursor = await sut.currentCursor('');
    await emu.seed.file('elsewhere/deep/er/c.txt', 'ccc');
    const fresh = createGoogleDriveForTest(emu);
    const page = await fresh.changes('', cursor);
    const upserts = page.changes
      .filter((c) => c.type === 'upsert')
      .map((c) => (c.type === 'upsert' ? c.entry.path : ''));
    expect(upserts).toEqual(
      expect.arrayContaining([
        'elsewhere',
        'elsewhere/deep',
        'elsewhere/deep/er',
        'elsewhere/deep/er/c.txt',
      ]),
    );
  });

  it('should report a rename as a delete of the old path and an upsert of the new one', async () => {
    await sut.write('mv/old.txt', Readable.from([Buffer.from('m')]), { size: 1 });
    const cursor = await sut.currentCursor('');
    const f = emu.findByPath('mv/old.txt')!;
    f.name = 'new.txt';
    emu.store.touch(f);
    const page = await sut.changes('mv', cursor);
    expect(page.changes).toEqual([
      { type: 'delete', path: 'mv/old.txt', id: f.id },
      { type: 'upsert', entry: expect.objectContaining({ path: 'mv/new.txt' }) },
    ]);
  });

  it('should throw CursorExpiredError when the stored change token is rejected', async () => {
    const cursor = await sut.currentCursor('');
    emu.control.invalidateChangeTokens();
    await expect(sut.changes('', cursor)).rejects.toBeInstanceOf(CursorExpiredError);
  });

  it('should copy server-side and replace an existing target', async () => {
    await sut.write('cp/src.txt', Readable.from([Buffer.from('source')]), { size: 6 });
    await sut.write('cp/dst.txt', Readable.from([Buffer.from('old')]), { size: 3 });
    const e = await sut.copy('cp/src.txt', 'cp/dst.txt');
    expect(e.size).toBe(6);
    expect((await listAll(sut, 'cp')).map((x) => x.name).sort()).toEqual(['dst.txt', 'src.txt']);
    expect((await buffer(await sut.read('cp/dst.txt'))).toString()).toBe('source');
    expect(emu.requestLog.some((r) => r.path.endsWith('/copy'))).toBe(true);
  });

  it('should keep the source modification time on write', async () => {
    const when = new Date('2020-02-03T04:05:06.789Z');
    const e = await sut.write('mtime.txt', Readable.from([Buffer.from('m')]), {
      size: 1,
      modifiedAt: when,
    });
    expect(e.modifiedAt?.toISOString()).toBe(when.toISOString());
  });

  it('should connect an account through the OAuth flow with PKCE', async () => {
    const flow = googleDriveConnectorDescriptor.oauth!;
    const config = {
      clientId: emu.credentials.clientId,
      clientSecret: emu.credentials.clientSecret,
      tokenUrl: emu.credentials.tokenUrl,
      authorizeUrl: emu.credentials.authorizeUrl,
      apiBaseUrl: emu.credentials.apiBaseUrl,
      uploadChunkSize: 262144,
    };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL(
      flow.authorizeUrl({
        state: 'st-1',
        redirectUri: 'http://127.0.0.1:1/cb',
        codeChallenge: challenge,
        config,
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      access_type: 'offline',
      prompt: 'consent',
      scope: 'https://www.googleapis.com/auth/drive',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      response_type: 'code',
    });
    const page = await (await fetch(url)).text();
    const allow = /id="allow" href="([^"]+)"/.exec(page)![1]!.replace(/&#38;/g, '&');
    const redirect = await fetch(new URL(allow, emu.baseUrl), { redirect: 'manual' });
    const back = new URL(redirect.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('st-1');
    await expect(
      flow.exchangeCode({
        code: back.searchParams.get('code')!,
        redirectUri: 'http://127.0.0.1:1/cb',
        codeVerifier: 'wrong',
        config,
      }),
    ).rejects.toThrow();
    const again = new URL(
      (await fetch(new URL(allow, emu.baseUrl), { redirect: 'manual' })).headers.get('location')!,
    );
    const settings = await flow.exchangeCode({
      code: again.searchParams.get('code')!,
      redirectUri: 'http://127.0.0.1:1/cb',
      codeVerifier: verifier,
      config,
    });
    expect(settings.secrets.refreshToken).toMatch(/^1\/\//);
    expect(settings.secrets.clientSecret).toBe(emu.credentials.clientSecret);
    expect(settings.config.clientSecret).toBeUndefined();
    const connector = googleDriveConnectorDescriptor.create(settings, {
      clock: systemClock,
      saveSecrets: async () => undefined,
    });
    expect((await connector.stat('Fixtures')).kind).toBe('folder');
  });
});
