import {
  contentRangeOf,
  trimSlashes,
  type EmulatorControlApi,
  type FaultMatch,
  type StoredFile,
} from '../emulator-control.js';
import type { FaultTarget } from './drive-faults.js';
import type { GoogleDriveEmulator } from './google-drive.emulator.js';

const FOLDER_MIME = 'application/vnd.google-apps.folder';

/** Drive's request classes for a shared match: uploads are session chunk requests. */
function driveTarget(
  m: FaultMatch | undefined,
  fallback: FaultTarget,
): {
  target: FaultTarget;
  pathIncludes?: string;
} {
  const target: FaultTarget =
    m?.traffic === 'api'
      ? 'api'
      : m?.traffic === 'upload'
        ? 'uploadChunk'
        : m?.traffic === 'download'
          ? 'download'
          : fallback;
  return { target, pathIncludes: m?.pathIncludes };
}

/** A chunk PUT (or POST) to a resumable session URI: its upload_id and Content-Range. */
function uploadOf(
  method: string,
  path: string,
  uploadId: string | undefined,
  contentRange: string | undefined,
): { session: string; offset: number; length: number } | undefined {
  if (method === 'GET' || uploadId === undefined || !path.startsWith('/upload/drive/v3/files'))
    return undefined;
  const cr = contentRangeOf(contentRange);
  return cr && { session: uploadId, offset: cr.first, length: cr.length };
}

/** The shared control API over the Drive emulator's own control and seeder. */
export function googleDriveControlApi(e: Omit<GoogleDriveEmulator, 'api'>): EmulatorControlApi {
  const api: EmulatorControlApi = {
    kind: 'google-drive',
    baseUrl: e.baseUrl,
    info: { baseUrl: e.baseUrl, credentials: e.credentials, sharedDriveId: e.sharedDrive?.id },
    seedFile: async (path, content, o = {}) => {
      await e.seed.file(trimSlashes(path), content, { modifiedTime: o.modifiedAt?.toISOString() });
    },
    storedFilePath: (path) => e.findByPath(trimSlashes(path))?.blob?.path,
    storedFiles: (folder = '') => {
      const out: StoredFile[] = [];
      const walk = (id: string, prefix: string) => {
        for (const kid of e.store.childIds(id)) {
          const f = e.store.files.get(kid)!;
          if (f.trashed) continue;
          if (f.mimeType === FOLDER_MIME) walk(f.id, `${prefix}${f.name}/`);
          else if (f.blob) out.push({ path: `${prefix}${f.name}`, storedPath: f.blob.path });
        }
      };
      const rel = trimSlashes(folder);
      const root = rel ? e.findByPath(rel)?.id : e.store.rootId;
      if (root) walk(root, rel ? `${rel}/` : '');
      return out;
    },
    secondFactorCode: () => undefined,
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          return e.control.inject(
            {
              type: 'error',
              status: 429,
              reason: 'rateLimitExceeded',
              retryAfterSeconds: f.retryAfterSeconds ?? 1,
            },
            { ...driveTarget(f.match, 'any'), times: f.times },
          );
        case 'serverError':
          return e.control.inject(
            {
              type: 'error',
              status: f.status ?? 503,
              reason: 'backendError',
              retryAfterSeconds: f.retryAfterSeconds,
            },
            { ...driveTarget(f.match, 'any'), times: f.times },
          );
        case 'cutDownload':
          return e.control.inject(
            { type: 'cutDownload', afterBytes: f.afterBytes },
            driveTarget(f.match, 'download'),
          );
        case 'cutUpload':
          return e.control.inject(
            { type: 'cutUpload', afterBytes: f.afterBytes, persistBytes: f.keepBytes },
            { ...driveTarget(f.match, 'uploadChunk'), skip: f.skip },
          );
        case 'expireAccessTokens':
          return e.control.expireTokens();
      }
    },
    requests: () =>
      e.requestLog.map((r) => {
        const p = r.path
          .replace(/\/files\/[^/]+/, '/files/{id}')
          .replace(/^\/drive\/v3/, '')
          .replace(/^\/upload\/drive\/v3/, '/upload');
        const extra = r.query.alt === 'media' ? '?alt=media' : '';
        return {
          method: r.method,
          path: r.path,
          status: r.status,
          label: `${r.method} ${p}${extra}`,
          range: r.range,
          bodyBytes: r.contentLength,
          cut: r.fault?.startsWith('cut') === true ? true : undefined,
          upload: uploadOf(r.method, r.path, r.query.upload_id, r.contentRange),
        };
      }),
    clearRequests: () => void (e.requestLog.length = 0),
    reset: () => {
      e.control.clearFaults();
      api.clearRequests();
    },
    stop: () => e.stop(),
  };
  return api;
}
