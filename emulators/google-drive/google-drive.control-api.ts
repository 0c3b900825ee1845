import { trimSlashes, type EmulatorControlApi } from '../emulator-control.js';
import type { GoogleDriveEmulator } from './google-drive.emulator.js';

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
    secondFactorCode: () => undefined,
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          return e.control.rateLimitNext({
            status: 429,
            retryAfterSeconds: f.retryAfterSeconds,
            times: f.times,
          });
        case 'serverError':
          return e.control.failNext(f.status ?? 503, {
            retryAfterSeconds: f.retryAfterSeconds,
            times: f.times,
          });
        case 'cutDownload':
          return e.control.cutNextDownload(f.afterBytes);
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
