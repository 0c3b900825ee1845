import {
  trimSlashes,
  unsupportedFault,
  type EmulatorControlApi,
  type FaultMatch,
  type StoredFile,
} from '../emulator-control.js';
import type { DropboxEmulator } from './dropbox-emulator.js';

/** Dropbox timestamps are whole seconds. */
const dropboxTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Routes that carry upload bodies, and the download routes (the shared traffic classes). */
const UPLOAD_ROUTES = [
  'files/upload',
  'files/upload_session/start',
  'files/upload_session/append_v2',
  'files/upload_session/append',
  'files/upload_session/finish',
];
const DOWNLOAD_ROUTES = ['files/download', 'files/get_thumbnail_v2', 'files/export'];

/** A shared match as Dropbox fault fields: `pathIncludes` is a route name, matched exactly. */
function dropboxMatch(m: FaultMatch | undefined): { route?: string; routes?: string[] } {
  if (!m) return {};
  if (m.pathIncludes !== undefined) return { route: m.pathIncludes.replace(/^\/?(2\/)?/, '') };
  if (m.traffic === 'upload') return { routes: UPLOAD_ROUTES };
  if (m.traffic === 'download') return { routes: DOWNLOAD_ROUTES };
  if (m.traffic === 'api') return { routes: undefined };
  return {};
}

/** An append or finish that carries bytes of a session: its cursor. */
function uploadOf(
  route: string,
  arg: unknown,
  bytes: number | undefined,
): { session: string; offset: number; length: number } | undefined {
  if (!route.startsWith('files/upload_session/') || !bytes) return undefined;
  const c = (arg as { cursor?: { offset?: number; session_id?: string } } | undefined)?.cursor;
  if (!c?.session_id) return undefined;
  return { session: c.session_id, offset: c.offset ?? 0, length: bytes };
}

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
            e.control.pushFault({
              kind: 'rate_limit',
              reason: 'too_many_requests',
              retryAfterSeconds: f.retryAfterSeconds ?? 1,
              ...dropboxMatch(f.match),
            });
          return;
        case 'serverError':
          if (f.match?.traffic === 'api' && f.match.pathIncludes === undefined)
            throw unsupportedFault('dropbox', 'a fault on API routes only (name a route)');
          for (let i = 0; i < (f.times ?? 1); i++)
            e.control.pushFault({
              kind: 'status',
              status: f.status ?? 503,
              retryAfterSeconds: f.retryAfterSeconds,
              ...dropboxMatch(f.match),
            });
          return;
        case 'cutDownload':
          return e.control.pushFault({
            kind: 'cut_download',
            afterBytes: f.afterBytes,
            ...dropboxMatch(f.match ?? { traffic: 'download' }),
          });
        case 'cutUpload':
          return e.control.pushFault({
            kind: 'cut_upload',
            afterBytes: f.afterBytes,
            keepBytes: Math.min(f.keepBytes ?? 0, f.afterBytes),
            skip: f.skip,
            ...dropboxMatch(f.match ?? { traffic: 'upload' }),
          });
        case 'expireAccessTokens':
          return e.control.expireAccessTokens();
      }
    },
    storedFiles: (folder = '') => {
      const rel = trimSlashes(folder);
      const prefix = rel ? `/${rel}/`.toLowerCase() : '/';
      const out: StoredFile[] = [];
      for (const n of e.store.nodes.values()) {
        if (n.kind !== 'file' || !n.pathDisplay.toLowerCase().startsWith(prefix)) continue;
        out.push({ path: trimSlashes(n.pathDisplay), storedPath: n.blob });
      }
      return out;
    },
    requests: () =>
      e.requestLog
        .filter((r) => r.host !== '_control')
        .map((r) => ({
          method: r.method,
          path: `/${r.host}/2/${r.route}`,
          status: r.status,
          label: r.route,
          range: r.range,
          bodyBytes: r.declaredBytes,
          cut: r.cut,
          upload: uploadOf(r.route, r.arg, r.declaredBytes),
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
