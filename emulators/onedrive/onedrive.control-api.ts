import { trimSlashes, type EmulatorControlApi } from '../emulator-control.js';
import type { OneDriveEmulator } from './onedrive-emulator.js';

/** The shared control API over the OneDrive emulator's own control and seeder. */
export function oneDriveControlApi(e: Omit<OneDriveEmulator, 'api'>): EmulatorControlApi {
  const api: EmulatorControlApi = {
    kind: 'onedrive',
    baseUrl: e.baseUrl,
    info: { baseUrl: e.baseUrl, credentials: e.credentials },
    seedFile: async (path, content, o = {}) => {
      await e.seed.file(trimSlashes(path), content, { modifiedAt: o.modifiedAt });
    },
    storedFilePath: (path) =>
      e.drive.resolve(e.drive.root, trimSlashes(path).split('/'))?.blob?.path,
    secondFactorCode: () => undefined,
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          return e.control.rateLimitNext({
            retryAfterSec: f.retryAfterSeconds,
            count: f.times,
            target: 'any',
          });
        case 'serverError':
          if ((f.status ?? 503) === 503) {
            return e.control.serviceUnavailableNext({
              retryAfterSec: f.retryAfterSeconds,
              count: f.times,
              target: 'any',
            });
          }
          return e.control.failNext({ status: f.status, count: f.times, target: 'any' });
        case 'cutDownload':
          return e.control.cutNextDownload(f.afterBytes);
        case 'expireAccessTokens':
          return e.control.expireToken();
      }
    },
    requests: () =>
      e.requestLog.map((r) => {
        const path = r.url.split('?')[0]!;
        const what =
          /:\/(children|content|createUploadSession)$/.exec(path)?.[1] ??
          /\/(children|content|createUploadSession|delta)$/.exec(path)?.[1] ??
          (r.role === 'graph' ? 'item' : '');
        return {
          method: r.method,
          path,
          status: r.status || undefined,
          label: `${r.role} ${r.method}${what ? ` ${what}` : ''}`,
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
