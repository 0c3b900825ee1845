import { trimSlashes, type EmulatorControlApi } from '../emulator-control.js';
import type { DropboxEmulator } from './dropbox-emulator.js';

/** Dropbox timestamps are whole seconds. */
const dropboxTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The shared control API over the Dropbox emulator's own control and seeder. */
export function dropboxControlApi(e: Omit<DropboxEmulator, 'api'>): EmulatorControlApi {
  const api: EmulatorControlApi = {
    kind: 'dropbox',
    baseUrl: e.baseUrl,
    info: { baseUrl: e.baseUrl, hosts: e.hosts, credentials: e.credentials },
    seedFile: async (path, content, o = {}) => {
      await e.seedFile(`/${trimSlashes(path)}`, content, {
        clientModified: o.modifiedAt ? dropboxTime(o.modifiedAt) : undefined,
      });
    },
    storedFilePath: (path) => {
      const n = e.store.resolve(`/${trimSlashes(path)}`);
      return n && n.kind === 'file' ? n.blob : undefined;
    },
    secondFactorCode: () => undefined,
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          for (let i = 0; i < (f.times ?? 1); i++)
            e.control.rateLimitNext({ retryAfterSeconds: f.retryAfterSeconds });
          return;
        case 'serverError':
          for (let i = 0; i < (f.times ?? 1); i++)
            e.control.failNext(f.status ?? 503, { retryAfterSeconds: f.retryAfterSeconds });
          return;
        case 'cutDownload':
          return e.control.cutNextDownload(f.afterBytes);
        case 'expireAccessTokens':
          return e.control.expireAccessTokens();
      }
    },
    requests: () =>
      e.requestLog
        .filter((r) => r.host !== '_control')
        .map((r) => ({
          method: r.method,
          path: `/${r.host}/2/${r.route}`,
          status: r.status,
          label: r.route,
        })),
    clearRequests: () => e.clearRequestLog(),
    reset: () => {
      e.control.clearFaults();
      api.clearRequests();
    },
    stop: () => e.stop(),
  };
  return api;
}
