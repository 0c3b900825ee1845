import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/common/clock.js';
import {
  hasChangeFeed,
  hasServerSideCopy,
  hasUploadSessionDiscarder,
} from '../../../src/connectors/capabilities.js';
import type {
  ChangeFeed,
  Connector,
  ServerSideCopier,
  UploadSessionDiscarder,
} from '../../../src/connectors/connector.js';
import { FatalError } from '../../../src/connectors/connector.errors.js';
import { dropboxConnectorDescriptor } from '../../../src/connectors/dropbox/index.js';
import { googleDriveConnectorDescriptor } from '../../../src/connectors/google-drive/index.js';
import {
  LazyCloudConnector,
  LazyConnector,
  LazyUploadSessionConnector,
} from '../../../src/connectors/lazy-connector.js';
import { LocalConnector } from '../../../src/connectors/local/local.connector.js';
import { oneDriveConnectorDescriptor } from '../../../src/connectors/onedrive/index.js';
import { s3ConnectorDescriptor } from '../../../src/connectors/s3/index.js';
import { sftpConnectorDescriptor } from '../../../src/connectors/sftp/index.js';
import { webDavConnectorDescriptor } from '../../../src/connectors/webdav/index.js';

const ctx = { clock: systemClock, saveSecrets: async () => undefined };

describe('LazyConnector', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cbe-lazy-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function lazy(load: () => Promise<Connector>) {
    const inner = new LocalConnector({ root, fsync: false });
    return new LazyConnector('local', inner.capabilities, load);
  }

  it('should load the real connector on the first call only, and forward every call to it', async () => {
    let loads = 0;
    const c = lazy(async () => {
      loads++;
      return new LocalConnector({ root, fsync: false });
    });
    expect(loads).toBe(0);

    await c.mkdir('a');
    const written = await c.write('a/f.txt', Readable.from([Buffer.from('hello')]), { size: 5 });
    expect(written).toMatchObject({ path: 'a/f.txt', size: 5, kind: 'file' });
    expect((await c.stat('a/f.txt')).size).toBe(5);
    expect((await buffer(await c.read('a/f.txt', { range: { offset: 1 } }))).toString()).toBe(
      'ello',
    );
    const listed: string[] = [];
    for await (const e of c.list('a')) listed.push(e.path);
    expect(listed).toEqual(['a/f.txt']);
    await c.remove('a/f.txt');
    await expect(c.stat('a/f.txt')).rejects.toThrow(/f\.txt/);
    expect(loads).toBe(1);
  });

  it('should try to load again after a failed load, and pass the failure to the caller', async () => {
    let loads = 0;
    const c = lazy(async () => {
      if (++loads === 1) throw new Error('cannot import the SDK');
      return new LocalConnector({ root, fsync: false });
    });
    await expect(c.mkdir('x')).rejects.toThrow('cannot import the SDK');
    await expect(c.mkdir('x')).resolves.toMatchObject({ path: 'x', kind: 'folder' });
    expect(loads).toBe(2);
  });

  it('should fail with a FatalError naming the kind when its package is not installed', async () => {
    const c = new LazyConnector('s3', cloudCapabilities, async () => {
      throw Object.assign(new Error("Cannot find package '@aws-sdk/client-s3'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    const err = await c.stat('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toBe(
      "s3: the connector's library could not be loaded (Cannot find package '@aws-sdk/client-s3'); reinstall the engine's dependencies (npm ci)",
    );
  });

  it('should close without loading when never used, and close the real connector when used', async () => {
    let loads = 0;
    let closed = 0;
    const make = () =>
      lazy(async () => {
        loads++;
        const inner = new LocalConnector({ root, fsync: false });
        return Object.assign(inner, { close: async () => void closed++ });
      });
    await make().close();
    expect({ loads, closed }).toEqual({ loads: 0, closed: 0 });
    const used = make();
    await used.mkdir('y');
    await used.close();
    expect({ loads, closed }).toEqual({ loads: 1, closed: 1 });
  });
});

describe('LazyCloudConnector', () => {
  it('should have the change feed and server-side copy before loading, and forward them', async () => {
    const calls: string[] = [];
    const inner = {
      kind: 'fake',
      capabilities: { ...cloudCapabilities },
      currentCursor: async (dir: string) => (calls.push(`cursor ${dir}`), 'c1'),
      changes: async (dir: string, cursor: string) => (
        calls.push(`changes ${dir} ${cursor}`),
        { changes: [], cursor: 'c2', hasMore: false }
      ),
      copy: async (from: string, to: string) => (
        calls.push(`copy ${from} ${to}`),
        { path: to, name: to, kind: 'file' as const, size: 1 }
      ),
    } as unknown as Connector & ChangeFeed & ServerSideCopier;
    let loads = 0;
    const c = new LazyCloudConnector('fake', cloudCapabilities, async () => (loads++, inner));
    expect(hasChangeFeed(c) && hasServerSideCopy(c)).toBe(true);
    expect(loads).toBe(0);

    await expect(c.currentCursor('d')).resolves.toBe('c1');
    await expect(c.changes('d', 'c1')).resolves.toMatchObject({ cursor: 'c2' });
    await expect(c.copy('a', 'b')).resolves.toMatchObject({ path: 'b' });
    expect(calls).toEqual(['cursor d', 'changes d c1', 'copy a b']);
    expect(loads).toBe(1);
  });
});

describe('LazyUploadSessionConnector', () => {
  it('should discard upload sessions before loading, through the real connector', async () => {
    const discarded: string[] = [];
    const inner = {
      kind: 'fake',
      capabilities: cloudCapabilities,
      discardUploadSession: async (locator: string) => void discarded.push(locator),
    } as unknown as Connector & UploadSessionDiscarder;
    const c = new LazyUploadSessionConnector('fake', cloudCapabilities, async () => inner);
    expect(hasUploadSessionDiscarder(c)).toBe(true);
    expect(
      hasUploadSessionDiscarder(new LazyConnector('fake', cloudCapabilities, async () => inner)),
    ).toBe(false);
    await c.discardUploadSession('s3:upload-1');
    expect(discarded).toEqual(['s3:upload-1']);
  });
});

const cloudCapabilities = {
  hashes: [],
  rangedReads: true,
  changeFeed: true,
  serverSideCopy: true,
  writable: true,
  preservesModifiedTime: true,
};

describe('lazily loaded connector kinds', () => {
  it('should refuse bad settings at create, before loading any SDK', () => {
    expect(() => s3ConnectorDescriptor.create({ config: {}, secrets: {} }, ctx)).toThrow(
      new FatalError('s3: the bucket is required'),
    );
    expect(() =>
      webDavConnectorDescriptor.create({ config: { url: 'ftp://x' }, secrets: {} }, ctx),
    ).toThrow(FatalError);
    expect(() =>
      sftpConnectorDescriptor.create({ config: { host: 'h' }, secrets: {} }, ctx),
    ).toThrow(/host and the user are required/);
    expect(() =>
      googleDriveConnectorDescriptor.create(
        { config: { clientId: 'c', uploadChunkSize: 1000 }, secrets: {} },
        ctx,
      ),
    ).toThrow(/uploadChunkSize must be a positive multiple/);
    expect(() =>
      oneDriveConnectorDescriptor.create(
        { config: { clientId: 'c', uploadFragmentSize: 1000 }, secrets: { refreshToken: 'r' } },
        ctx,
      ),
    ).toThrow(/uploadFragmentSize must be a multiple/);
    expect(() => dropboxConnectorDescriptor.create({ config: {}, secrets: {} }, ctx)).toThrow(
      new FatalError('dropbox: the app key (clientId) is required'),
    );
  });

  it("should give the cloud drive kinds their change feed and copy, with the settings' sizes", () => {
    const MiB = 1024 * 1024;
    const drive = googleDriveConnectorDescriptor.create(
      { config: { clientId: 'c', uploadChunkSize: 16 * MiB, listPageSize: 100 }, secrets: {} },
      ctx,
    );
    const onedrive = oneDriveConnectorDescriptor.create(
      {
        config: { clientId: 'c', uploadFragmentSize: 20 * 320 * 1024 },
        secrets: { refreshToken: 'r' },
      },
      ctx,
    );
    const dropbox = dropboxConnectorDescriptor.create(
      { config: { clientId: 'c', uploadChunkSize: 4 * MiB, listPageSize: 50 }, secrets: {} },
      ctx,
    );
    for (const c of [drive, onedrive, dropbox]) {
      expect(c).toBeInstanceOf(LazyCloudConnector);
      expect(hasChangeFeed(c) && hasServerSideCopy(c)).toBe(true);
    }
    expect(drive.capabilities).toMatchObject({ uploadChunkSize: 16 * MiB, listPageSize: 100 });
    expect(onedrive.capabilities).toMatchObject({ uploadChunkSize: 20 * 320 * 1024 });
    expect(dropbox.capabilities).toMatchObject({ uploadChunkSize: 4 * MiB, listPageSize: 50 });
  });

  it("should report the settings' capabilities before loading (S3 part size and page size)", () => {
    const c = s3ConnectorDescriptor.create(
      {
        config: { bucket: 'b', partSize: 8 * 1024 * 1024, listPageSize: 250 },
        secrets: { accessKeyId: 'k', secretAccessKey: 's' },
      },
      ctx,
    );
    expect(c).toBeInstanceOf(LazyConnector);
    expect(c.kind).toBe('s3');
    expect(c.capabilities).toMatchObject({ uploadChunkSize: 8 * 1024 * 1024, listPageSize: 250 });
  });
});
