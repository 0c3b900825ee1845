import { readFile } from 'node:fs/promises';
import { ConnectorRegistry } from '../../src/connectors/connector.registry.js';
import type { EmulatorControlApi } from '../../emulators/emulator-control.js';
import { startDropboxEmulator } from '../../emulators/dropbox/dropbox-emulator.js';
import { startGoogleDriveEmulator } from '../../emulators/google-drive/google-drive.emulator.js';
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

/** Every stored file below a folder, relative path -> bytes, through the shared control API. */
async function storedTree(
  api: EmulatorControlApi,
  folder: string,
): Promise<Record<string, Buffer>> {
  const prefix = folder === '' ? '' : `${folder}/`;
  const out: Record<string, Buffer> = {};
  for (const f of api.storedFiles(folder))
    out[f.path.slice(prefix.length)] = await readFile(f.storedPath);
  return out;
}

/**
 * The request-log side every writable cloud shares: chunk requests of upload sessions and
 * content downloads, from the shared control API's request log.
 */
function sharedLog(api: EmulatorControlApi, isDownload: (label: string) => boolean) {
  return {
    clearRequestLog: () => api.clearRequests(),
    uploadChunkRequests: (): ChunkRequest[] =>
      api.requests().flatMap((r) =>
        r.upload
          ? [
              {
                session: r.upload.session,
                offset: r.upload.offset,
                bytes: r.upload.length,
                cut: r.cut === true,
                status: r.cut === true ? undefined : r.status,
              },
            ]
          : [],
      ),
    downloadRequests: (): DownloadRequest[] =>
      api
        .requests()
        .filter((r) => isDownload(r.label))
        .map((r) => ({ rangeStart: rangeStartOf(r.range), cut: r.cut === true, status: r.status })),
  };
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
    const append = { pathIncludes: 'files/upload_session/append_v2' };
    const download = { pathIncludes: 'files/download' };
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
      readTree: (folder) => storedTree(emu.api, folder),
      faults: {
        // Sequential sessions keep any prefix: half a chunk lands, the rest must be resent.
        cutUploadChunk: () => {
          const keep = uploadChunkSize / 2;
          emu.api.inject({
            kind: 'cutUpload',
            afterBytes: keep + 7_000,
            keepBytes: keep,
            match: append,
          });
          return { cutOffset: 0, resumeAt: keep };
        },
        cutDownload: (afterBytes) =>
          emu.api.inject({ kind: 'cutDownload', afterBytes, match: download }),
        rateLimitUpload: (retryAfterSeconds) =>
          emu.api.inject({ kind: 'rateLimit', retryAfterSeconds, match: append }),
        unavailableDownload: (retryAfterSeconds) =>
          emu.api.inject({ kind: 'serverError', status: 503, retryAfterSeconds, match: download }),
      },
      ...sharedLog(emu.api, (label) => label === 'files/download'),
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
      readTree: (folder) => storedTree(emu.api, folder),
      faults: {
        // Drive keeps whole 256 KiB units only: cut the second chunk, nothing of it persists.
        cutUploadChunk: () => {
          emu.api.inject({ kind: 'cutUpload', afterBytes: 100 * KiB, keepBytes: 0, skip: 1 });
          return { cutOffset: uploadChunkSize, resumeAt: uploadChunkSize };
        },
        cutDownload: (afterBytes) => emu.api.inject({ kind: 'cutDownload', afterBytes }),
        rateLimitUpload: (retryAfterSeconds) =>
          emu.api.inject({ kind: 'rateLimit', retryAfterSeconds, match: { traffic: 'upload' } }),
        unavailableDownload: (retryAfterSeconds) =>
          emu.api.inject({
            kind: 'serverError',
            status: 503,
            retryAfterSeconds,
            match: { traffic: 'download' },
          }),
      },
      ...sharedLog(emu.api, (label) => label.startsWith('GET ') && label.endsWith('?alt=media')),
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
      readTree: (folder) => storedTree(emu.api, folder),
      faults: {
        // The service keeps nothing of a broken fragment: cut the second one.
        cutUploadChunk: () => {
          emu.api.inject({ kind: 'cutUpload', afterBytes: 100 * KiB, keepBytes: 0, skip: 1 });
          return { cutOffset: uploadChunkSize, resumeAt: uploadChunkSize };
        },
        cutDownload: (afterBytes) => emu.api.inject({ kind: 'cutDownload', afterBytes }),
        rateLimitUpload: (retryAfterSeconds) =>
          emu.api.inject({ kind: 'rateLimit', retryAfterSeconds, match: { traffic: 'upload' } }),
        unavailableDownload: (retryAfterSeconds) =>
          emu.api.inject({
            kind: 'serverError',
            status: 503,
            retryAfterSeconds,
            match: { traffic: 'download' },
          }),
      },
      ...sharedLog(emu.api, (label) => label === 'download GET'),
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
      emulator.api
        .requests()
        .filter((r) => r.label === 'cdn GET')
        .map((r) => ({ rangeStart: rangeStartOf(r.range), cut: false, status: r.status })),
    clearRequestLog: () => emulator.api.clearRequests(),
    stop: () => emulator.stop(),
  };
}
