import {
  contentRangeOf,
  trimSlashes,
  unsupportedFault,
  type EmulatorControlApi,
  type FaultMatch,
  type StoredFile,
} from '../emulator-control.js';
import type { Item } from './drive-model.js';
import type { FaultTarget } from './onedrive-emulator.js';
import type { OneDriveEmulator } from './onedrive-emulator.js';

/** Graph's hosts for a shared match; a path cannot be matched here. */
function graphTarget(m: FaultMatch | undefined): FaultTarget {
  if (m?.pathIncludes !== undefined)
    throw unsupportedFault('onedrive', 'a fault matched by path (match by traffic)');
  return m?.traffic === 'api'
    ? 'graph'
    : m?.traffic === 'upload'
      ? 'upload'
      : m?.traffic === 'download'
        ? 'download'
        : 'any';
}

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
    storedFiles: (folder = '') => {
      const rel = trimSlashes(folder);
      const out: StoredFile[] = [];
      const root = e.drive.resolve(e.drive.root, rel.split('/').filter(Boolean));
      const walk = (item: Item, prefix: string) => {
        for (const kid of e.drive.childrenOf(item)) {
          if (kid.kind === 'folder') walk(kid, `${prefix}${kid.name}/`);
          else if (kid.blob) out.push({ path: `${prefix}${kid.name}`, storedPath: kid.blob.path });
        }
      };
      if (root) walk(root, rel ? `${rel}/` : '');
      return out;
    },
    secondFactorCode: () => undefined,
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          return e.control.rateLimitNext({
            retryAfterSec: f.retryAfterSeconds,
            count: f.times,
            target: graphTarget(f.match),
          });
        case 'serverError':
          if ((f.status ?? 503) === 503) {
            return e.control.serviceUnavailableNext({
              retryAfterSec: f.retryAfterSeconds,
              count: f.times,
              target: graphTarget(f.match),
            });
          }
          return e.control.failNext({
            status: f.status,
            count: f.times,
            target: graphTarget(f.match),
          });
        case 'cutDownload':
          if (graphTarget(f.match) !== 'any' && graphTarget(f.match) !== 'download')
            throw unsupportedFault('onedrive', 'a download cut on other traffic');
          return e.control.cutNextDownload(f.afterBytes);
        case 'cutUpload':
          if (graphTarget(f.match) !== 'any' && graphTarget(f.match) !== 'upload')
            throw unsupportedFault('onedrive', 'an upload cut on other traffic');
          return e.control.cutNextUploadFragment(f.afterBytes, {
            keepPartial: (f.keepBytes ?? 0) > 0,
            skipFragments: f.skip,
          });
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
          range: r.range,
          bodyBytes: r.contentLength,
          cut: r.fault?.startsWith('cut') === true ? true : undefined,
          upload: (() => {
            const cr =
              r.role === 'upload' && r.method === 'PUT'
                ? contentRangeOf(r.contentRange)
                : undefined;
            return cr && { session: path, offset: cr.first, length: cr.length };
          })(),
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
