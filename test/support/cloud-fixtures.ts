import { readFile } from 'node:fs/promises';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import {
  startDropboxEmulator,
  type RequestLogEntry as DropboxLogEntry,
} from '../../emulators/dropbox/dropbox-emulator.js';
import {
  startGoogleDriveEmulator,
  type RequestLogEntry as DriveLogEntry,
} from '../../emulators/google-drive/google-drive.emulator.js';
import { startOneDriveEmulator } from '../../emulators/onedrive/onedrive-emulator.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../emulators/icloud-photos/icloud-photos.emulator.js';
import type { AssetState } from '../../emulators/icloud-photos/library.js';
import type { TestApp } from './test-app.js';

/**
 * The clouds the end-to-end backup suites run against, one entry per cloud: how to start its
 * emulator, which account options to POST for it, how to seed it and read back what a backup
 * stored in it, how to inject a fault mid-transfer and what the emulator's request log says about
 * the resumption. Adding a cloud = adding an entry; the suites are table-driven.
 */

/** One data-carrying request of a chunked upload, from the emulator's request log. */
export interface ChunkRequest {
  /** The upload session the request belongs to (one per file upload). */
  session: string;
  /** Byte offset in the file the request claimed to start at. */
  offset: number;
  /** Body bytes the request carried (declared length). */
  bytes: number;
  /** The emulator cut this request's connection (the injected fault). */
  cut: boolean;
  /** HTTP status answered; undefined when the connection was cut. */
  status?: number;
}

/** One download request, from the emulator's request log. */
export interface DownloadRequest {
  /** First byte asked for (0 without a Range header). */
  rangeStart: number;
  cut: boolean;
  status?: number;
}

/** A running emulator of a cloud that can be both a source and a target. */
export interface WritableCloud {
  /** `options` of `POST /api/accounts`: emulator base URLs, client id, tokens, small chunks. */
  accountOptions: Record<string, unknown>;
  /** Bytes per upload request the account is configured with (the provider's smallest legal). */
  uploadChunkSize: number;
  /** Puts (or replaces) files under `folder` (a connector path such as 'Camera Uploads'). */
  seed(folder: string, files: Record<string, Buffer>, modifiedAt: Date): Promise<void>;
  /** Every file under `folder`, relative path -> bytes (what a backup stored there). */
  readTree(folder: string): Promise<Record<string, Buffer>>;
  faults: {
    /**
     * Cuts the connection in the middle of an upload chunk of the next chunked upload. Returns
     * the offset of the chunk that is cut and the offset the upload must resume at (what the
     * cloud kept), so a restart from 0 shows in the request log.
     */
    cutUploadChunk(): { cutOffset: number; resumeAt: number };
    /** The next download sends `afterBytes` of its body, then the connection drops. */
    cutDownload(afterBytes: number): void;
    /** The next upload chunk request answers 429 with Retry-After. */
    rateLimitUpload(retryAfterSec: number): void;
    /** The next download answers 503 with Retry-After. */
    unavailableDownload(retryAfterSec: number): void;
  };
  clearRequestLog(): void;
  /** Data-carrying chunk requests of upload sessions since the last clear, in order. */
  uploadChunkRequests(): ChunkRequest[];
  /** Content downloads since the last clear, in order. */
  downloadRequests(): DownloadRequest[];
  /** What names the retried call in the run's retry events (the connector's pacer label). */
  retryLabels: { upload: string; download: string };
  /**
   * Where each resumption shows: 'events' when the retry goes through the pacer the engine
   * listens to (a `level=retry` run event), 'connector' when the connector resumes internally
   * and only the emulator's request log shows it.
   */
  resumeVisibleIn: { uploadCut: 'events' | 'connector'; downloadCut: 'events' | 'connector' };
  stop(): Promise<void>;
}

export interface CloudFixture {
  /** Connector kind, as registered. */
  kind: string;
  /** Listing reports content hashes, so change detection compares hashes, not times. */
  contentHashes: boolean;
  start(): Promise<WritableCloud>;
}

const KiB = 1024;

function rangeStartOf(header: string | undefined): number {
  return header ? Number(/^bytes=(\d+)-/.exec(header)?.[1] ?? 0) : 0;
}

/** 'bytes 0-262143/800000' -> first byte and length; undefined for a status query ('bytes *\/N'). */
function contentRangeOf(header: string | undefined): { first: number; length: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\//.exec(header) : null;
  return m ? { first: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 } : undefined;
}

// ---- Dropbox ----------------------------------------------------------------------------------

function dropboxPath(folder: string, rel = ''): string {
  const p = [folder, rel].filter((s) => s !== '').join('/');
  return p === '' ? '' : `/${p}`;
}

export const dropboxFixture: CloudFixture = {
  kind: 'dropbox',
  contentHashes: true,
  async start() {
    const emu = await startDropboxEmulator({ maxLongpollMs: 200 });
    const uploadChunkSize = 64 * KiB;
    const chunkRoutes = new Set(['files/upload_session/append_v2', 'files/upload_session/finish']);
    const cursorOf = (e: DropboxLogEntry) =>
      (e.arg as { cursor?: { offset?: number; session_id?: string } } | undefined)?.cursor;
    return {
      accountOptions: {
        clientId: emu.credentials.clientId,
        clientSecret: emu.credentials.clientSecret,
        refreshToken: emu.credentials.refreshToken,
        apiBaseUrl: emu.hosts.api,
        contentBaseUrl: emu.hosts.content,
        notifyBaseUrl: emu.hosts.notify,
        authorizeBaseUrl: emu.hosts.www,
        uploadChunkSize,
        listPageSize: 5,
      },
      uploadChunkSize,
      async seed(folder, files, modifiedAt) {
        const clientModified = modifiedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
        for (const [rel, content] of Object.entries(files))
          await emu.seedFile(dropboxPath(folder, rel), content, { clientModified });
      },
      async readTree(folder) {
        const prefix = `${dropboxPath(folder)}/`.toLowerCase();
        const out: Record<string, Buffer> = {};
        for (const n of emu.store.nodes.values()) {
          if (n.kind !== 'file' || !n.pathDisplay.toLowerCase().startsWith(prefix)) continue;
          out[n.pathDisplay.slice(prefix.length)] = await readFile(n.blob);
        }
        return out;
      },
      faults: {
        // Sequential sessions keep any prefix: half a chunk lands, the rest must be resent.
        cutUploadChunk: () => {
          const keep = uploadChunkSize / 2;
          emu.control.cutNextUpload(keep + 7_000, keep, {
            route: 'files/upload_session/append_v2',
          });
          return { cutOffset: 0, resumeAt: keep };
        },
        cutDownload: (afterBytes) =>
          emu.control.cutNextDownload(afterBytes, { route: 'files/download' }),
        rateLimitUpload: (retryAfterSeconds) =>
          emu.control.rateLimitNext({
            route: 'files/upload_session/append_v2',
            retryAfterSeconds,
          }),
        unavailableDownload: (retryAfterSeconds) =>
          emu.control.failNext(503, { route: 'files/download', retryAfterSeconds }),
      },
      clearRequestLog: () => emu.clearRequestLog(),
      uploadChunkRequests: () =>
        emu.requestLog
          .filter((e) => chunkRoutes.has(e.route) && (e.declaredBytes ?? 0) > 0)
          .map((e) => ({
            session: cursorOf(e)?.session_id ?? '',
            offset: cursorOf(e)?.offset ?? 0,
            bytes: e.declaredBytes ?? 0,
            cut: e.cut === true,
            status: e.cut === true ? undefined : e.status,
          })),
      downloadRequests: () =>
        emu.requestLog
          .filter((e) => e.route === 'files/download')
          .map((e) => ({
            rangeStart: rangeStartOf(e.range),
            cut: e.cut === true,
            status: e.status,
          })),
      retryLabels: { upload: 'files/upload_session/append_v2', download: 'files/download' },
      // The upload resume is a pacer retry (probe + resend from the acknowledged offset); the
      // download resume is `resumableDownload` reopening with Range, outside the pacer.
      resumeVisibleIn: { uploadCut: 'events', downloadCut: 'connector' },
      stop: () => emu.stop(),
    };
  },
};

// ---- Google Drive -----------------------------------------------------------------------------

export const googleDriveFixture: CloudFixture = {
  kind: 'google-drive',
  contentHashes: true,
  async start() {
    const emu = await startGoogleDriveEmulator({ fixtures: false });
    const c = emu.credentials;
    const uploadChunkSize = 256 * KiB; // Drive's alignment: the smallest legal chunk
    const folderId = (path: string) => (path === '' ? emu.store.rootId : emu.findByPath(path)?.id);
    const isChunkPut = (e: DriveLogEntry) =>
      e.method === 'PUT' && e.path.startsWith('/upload/drive/v3/files');
    return {
      accountOptions: {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        refreshToken: c.refreshToken,
        apiBaseUrl: c.apiBaseUrl,
        tokenUrl: c.tokenUrl,
        authorizeUrl: c.authorizeUrl,
        revokeUrl: c.revokeUrl,
        uploadChunkSize,
        listPageSize: 5,
      },
      uploadChunkSize,
      async seed(folder, files, modifiedAt) {
        for (const [rel, content] of Object.entries(files)) {
          const path = [folder, rel].filter(Boolean).join('/');
          const existing = emu.findByPath(path);
          if (existing) {
            await emu.store.replaceContent(
              existing,
              await emu.store.blobFromBuffer(content),
              modifiedAt.toISOString(),
            );
          } else {
            await emu.seed.file(path, content, { modifiedTime: modifiedAt.toISOString() });
          }
        }
      },
      async readTree(folder) {
        const out: Record<string, Buffer> = {};
        const walk = async (id: string, prefix: string) => {
          for (const kid of emu.store.childIds(id)) {
            const f = emu.store.files.get(kid)!;
            if (f.trashed) continue;
            if (f.mimeType === 'application/vnd.google-apps.folder')
              await walk(f.id, `${prefix}${f.name}/`);
            else out[`${prefix}${f.name}`] = await emu.content(f.id);
          }
        };
        const root = folderId(folder);
        if (root) await walk(root, '');
        return out;
      },
      faults: {
        // Drive keeps whole 256 KiB units only: cut the second chunk, nothing of it persists.
        cutUploadChunk: () => {
          emu.control.cutNextUploadChunk(100 * KiB, 0, 1);
          return { cutOffset: uploadChunkSize, resumeAt: uploadChunkSize };
        },
        cutDownload: (afterBytes) => emu.control.cutNextDownload(afterBytes),
        rateLimitUpload: (retryAfterSeconds) =>
          emu.control.rateLimitNext({ retryAfterSeconds, target: 'uploadChunk' }),
        unavailableDownload: (retryAfterSeconds) =>
          emu.control.failNext(503, { retryAfterSeconds, target: 'download' }),
      },
      clearRequestLog: () => void emu.requestLog.splice(0),
      uploadChunkRequests: () =>
        emu.requestLog.flatMap((e) => {
          const cr = isChunkPut(e) ? contentRangeOf(e.contentRange) : undefined;
          if (!cr) return [];
          const session = e.query.upload_id ?? '';
          const cut = e.status === undefined;
          return [{ session, offset: cr.first, bytes: cr.length, cut, status: e.status }];
        }),
      downloadRequests: () =>
        emu.requestLog
          .filter((e) => e.method === 'GET' && e.query.alt === 'media')
          .map((e) => ({
            rangeStart: rangeStartOf(e.range),
            cut: e.fault?.startsWith('cutDownload') === true,
            status: e.status,
          })),
      retryLabels: { upload: 'upload.chunk', download: 'files.get(media)' },
      resumeVisibleIn: { uploadCut: 'events', downloadCut: 'connector' },
      stop: () => emu.stop(),
    };
  },
};

// ---- OneDrive ---------------------------------------------------------------------------------

export const oneDriveFixture: CloudFixture = {
  kind: 'onedrive',
  contentHashes: true,
  async start() {
    const emu = await startOneDriveEmulator();
    const c = emu.credentials;
    const uploadChunkSize = 320 * KiB; // the fragment alignment: the smallest legal fragment
    return {
      accountOptions: {
        clientId: c.clientId,
        ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
        refreshToken: c.refreshToken,
        graphBaseUrl: emu.baseUrl,
        authorityBaseUrl: emu.baseUrl,
        uploadFragmentSize: uploadChunkSize,
        listPageSize: 5,
      },
      uploadChunkSize,
      async seed(folder, files, modifiedAt) {
        for (const [rel, content] of Object.entries(files))
          await emu.seed.file([folder, rel].filter(Boolean).join('/'), content, { modifiedAt });
      },
      async readTree(folder) {
        const out: Record<string, Buffer> = {};
        const root = emu.drive.resolve(emu.drive.root, folder.split('/').filter(Boolean));
        const walk = async (item: NonNullable<typeof root>, prefix: string) => {
          for (const kid of emu.drive.childrenOf(item)) {
            if (kid.kind === 'folder') await walk(kid, `${prefix}${kid.name}/`);
            else out[`${prefix}${kid.name}`] = (await emu.seed.read(emu.drive.pathOf(kid)))!;
          }
        };
        if (root) await walk(root, '');
        return out;
      },
      faults: {
        // The service keeps nothing of a broken fragment: cut the second one.
        cutUploadChunk: () => {
          emu.control.cutNextUploadFragment(100 * KiB, { keepPartial: false, skipFragments: 1 });
          return { cutOffset: uploadChunkSize, resumeAt: uploadChunkSize };
        },
        cutDownload: (afterBytes) => emu.control.cutNextDownload(afterBytes),
        rateLimitUpload: (retryAfterSec) =>
          emu.control.rateLimitNext({ retryAfterSec, target: 'upload' }),
        unavailableDownload: (retryAfterSec) =>
          emu.control.serviceUnavailableNext({ retryAfterSec, target: 'download' }),
      },
      clearRequestLog: () => void emu.requestLog.splice(0),
      uploadChunkRequests: () =>
        emu.requestLog.flatMap((e) => {
          const cr =
            e.role === 'upload' && e.method === 'PUT' ? contentRangeOf(e.contentRange) : undefined;
          if (!cr) return [];
          const cut = e.fault?.startsWith('cut fragment') === true;
          const session = e.url.split('?')[0]!;
          return [
            {
              session,
              offset: cr.first,
              bytes: cr.length,
              cut,
              status: cut ? undefined : e.status,
            },
          ];
        }),
      downloadRequests: () =>
        emu.requestLog
          .filter((e) => e.role === 'download' && e.method === 'GET')
          .map((e) => ({
            rangeStart: rangeStartOf(e.range),
            cut: e.fault?.startsWith('cut download') === true,
            status: e.status,
          })),
      retryLabels: { upload: 'onedrive.uploadFragment', download: 'onedrive.download' },
      resumeVisibleIn: { uploadCut: 'events', downloadCut: 'connector' },
      stop: () => emu.stop(),
    };
  },
};

/** Every entry written so far; the suites keep only those whose kind the build registers. */
const ALL_WRITABLE_CLOUDS: CloudFixture[] = [dropboxFixture, googleDriveFixture, oneDriveFixture];

/** Kinds that have an entry here. */
export const WRITABLE_CLOUD_KINDS: readonly string[] = ALL_WRITABLE_CLOUDS.map((c) => c.kind);

/** Writable clouds whose connector is in the registry of this build. */
export function registeredWritableClouds(
  registry: ConnectorRegistry = new ConnectorRegistry(),
): CloudFixture[] {
  return ALL_WRITABLE_CLOUDS.filter((c) => registry.has(c.kind));
}

// ---- iCloud Photos (read-only source) ---------------------------------------------------------

export interface ICloudPhotosCloud {
  emulator: ICloudPhotosEmulator;
  /** Connector options besides the Apple ID and password: the emulator's hosts. */
  options: Record<string, unknown>;
  /**
   * Connects an account through the API as a person would: `POST /api/accounts/icloud/sign-in`
   * with the Apple ID and password, then the 6-digit code the "trusted device" (the emulator)
   * shows, `POST /api/accounts/:id/icloud/code`. Returns the account id.
   */
  connect(app: TestApp, name: string): Promise<string>;
  /** The visible assets of the personal library. */
  visibleAssets(): AssetState[];
  /** `All Photos/YYYY/MM/<name>` of an asset's original (month in the photo's own time zone). */
  originalPath(a: AssetState): string;
  originalBytes(a: AssetState): Buffer;
  /** CDN (download) requests since the last clear. */
  downloadRequests(): DownloadRequest[];
  clearRequestLog(): void;
  stop(): Promise<void>;
}

/**
 * A small generated library: 12 assets over 2023 (HEIC Live Photos with their MOV, JPEG, PNG,
 * MOV, RAW+JPEG, DNG, an edited JPEG, a unicode name), no albums and no shared library, so the
 * whole tree is `All Photos/YYYY/MM/...`.
 */
export async function startICloudPhotos(): Promise<ICloudPhotosCloud> {
  const emulator = await startICloudPhotosEmulator({
    librarySize: 12,
    sharedLibrarySize: 0,
    minFileSize: 20 * KiB,
    maxFileSize: 90 * KiB,
    startDate: Date.UTC(2023, 0, 10),
    spanMs: 330 * 86_400_000,
    iterations: 1000,
  });
  emulator.primary.albums.length = 0; // keep the tree to All Photos (albums would repeat files)
  const options = {
    authBaseUrl: emulator.authBaseUrl,
    setupBaseUrl: emulator.setupBaseUrl,
    listConcurrency: 2,
  };
  return {
    emulator,
    options,
    async connect(app, name) {
      const signIn = await app.http
        .post('/api/accounts/icloud/sign-in')
        .send({
          name,
          appleId: emulator.credentials.appleId,
          password: emulator.credentials.password,
          options,
        })
        .expect(200);
      const id = (signIn.body as { account: { id: string } }).account.id;
      if ((signIn.body as { state: string }).state === 'connected') return id;
      const code = emulator.control.lastSecurityCode();
      if (!code) throw new Error('the iCloud emulator showed no code');
      const done = await app.http
        .post(`/api/accounts/${id}/icloud/code`)
        .send({ code })
        .expect(200);
      if ((done.body as { state: string }).state !== 'connected')
        throw new Error(`iCloud sign-in ended in state ${String(done.body.state)}`);
      return id;
    },
    visibleAssets: () => emulator.primary.visible(),
    originalPath: (a) => {
      const d = new Date(a.assetDate + a.tzOffset * 1000);
      const month = String(d.getUTCMonth() + 1).padStart(2, '0');
      return `All Photos/${d.getUTCFullYear()}/${month}/${a.filename!}`;
    },
    originalBytes: (a) => emulator.expectedBytes(a, 'resOriginal'),
    downloadRequests: () =>
      emulator.requestLog.entries
        .filter((e) => e.endpoint === 'cdn GET')
        .map((e) => ({
          rangeStart: e.range ? Number(/^bytes=(\d+)-/.exec(e.range)?.[1] ?? 0) : 0,
          cut: false,
          status: e.status,
        })),
    clearRequestLog: () => emulator.requestLog.clear(),
    stop: () => emulator.stop(),
  };
}
