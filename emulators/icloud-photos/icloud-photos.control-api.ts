import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  trimSlashes,
  unsupportedFault,
  type EmulatorControlApi,
  type FaultMatch,
} from '../emulator-control.js';
import type { ICloudPhotosEmulator } from './icloud-photos.emulator.js';

/** iCloud's fault scopes for a shared match; a path cannot be matched here. */
function scopeOf(m: FaultMatch | undefined): 'ck' | 'upload' | 'cdn' | 'any' {
  if (m?.pathIncludes !== undefined)
    throw unsupportedFault('icloud-photos', 'a fault matched by path (match by traffic)');
  return m?.traffic === 'api'
    ? 'ck'
    : m?.traffic === 'upload'
      ? 'upload'
      : m?.traffic === 'download'
        ? 'cdn'
        : 'any';
}

/**
 * The shared control API over the iCloud Photos emulator. Seeding adds a JPEG photo to the
 * personal library whose original is the given bytes (the path's last segment is its file name);
 * a path resolves to the newest live photo of that file name.
 */
export function iCloudPhotosControlApi(e: Omit<ICloudPhotosEmulator, 'api'>): EmulatorControlApi {
  let dir: string | undefined;
  const api: EmulatorControlApi = {
    kind: 'icloud-photos',
    baseUrl: e.baseUrl,
    info: {
      baseUrl: e.baseUrl,
      authBaseUrl: e.authBaseUrl,
      setupBaseUrl: e.setupBaseUrl,
      credentials: e.credentials,
    },
    seedFile: async (path, content, o = {}) => {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      const filename = trimSlashes(path).split('/').pop() ?? 'IMG.JPG';
      dir ??= mkdtempSync(join(tmpdir(), 'icloud-emu-seed-'));
      const file = join(dir, `${Date.now()}-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, bytes);
      const when = (o.modifiedAt ?? new Date()).getTime();
      e.control.addAsset({
        kind: 'jpeg',
        filename,
        filenameType: 'ENCRYPTED_BYTES',
        assetDate: when,
        addedDate: when,
        modifiedAt: when,
        tzOffset: 0,
        editGen: 0,
        sizes: { resOriginal: bytes.length },
        upload: { file, ext: 'JPG', sha256: createHash('sha256').update(bytes).digest('hex') },
      });
    },
    storedFilePath: (path) => {
      const name = trimSlashes(path).split('/').pop();
      return e.primary
        .visible()
        .filter((a) => a.filename === name && a.upload)
        .pop()?.upload?.file;
    },
    storedFiles: () =>
      e.primary
        .visible()
        .filter((a) => a.upload && a.filename !== undefined)
        .map((a) => ({ path: a.filename!, storedPath: a.upload!.file })),
    secondFactorCode: () => e.control.lastSecurityCode(),
    inject: (f) => {
      switch (f.kind) {
        case 'rateLimit':
          return e.control.throttle({
            status: 429,
            retryAfterSec: f.retryAfterSeconds ?? 1,
            count: f.times,
            scope: scopeOf(f.match),
          });
        case 'serverError':
          return e.control.throttle({
            status: f.status ?? 503,
            retryAfterSec: f.retryAfterSeconds,
            count: f.times,
            scope: scopeOf(f.match),
          });
        case 'cutDownload':
          if (!['any', 'cdn'].includes(scopeOf(f.match)))
            throw unsupportedFault('icloud-photos', 'a download cut on other traffic');
          return e.control.cutNextDownload(f.afterBytes);
        case 'cutUpload':
          throw unsupportedFault('icloud-photos', 'an upload cut');
        case 'expireAccessTokens':
          return e.control.expireSession(401);
      }
    },
    requests: () =>
      e.requestLog.entries.map((r) => ({
        method: r.method,
        path: r.path,
        status: r.status || undefined,
        label: r.endpoint,
        range: r.range,
      })),
    clearRequests: () => e.requestLog.clear(),
    reset: () => {
      e.control.clearFaults();
      api.clearRequests();
    },
    stop: async () => {
      await e.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}
