import type { AsyncLocalStorage } from 'node:async_hooks';
import {
  DROPBOX_API_BASE_URL,
  DROPBOX_CONTENT_BASE_URL,
  DROPBOX_NOTIFY_BASE_URL,
  type DropboxHosts,
} from './dropbox.options.js';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/**
 * The fetch handed to the SDK (and used for the raw download requests). The SDK always builds
 * `https://{api,content,notify}.dropboxapi.com/...` URLs (its `domain` option is meant for
 * Dropbox's own dev boxes); this rewrites those three origins to the configured hosts and
 * attaches the AbortSignal of the call in progress (10.34's route methods take none).
 *
 * 10.34 needs from it: `ok`, `status`, `headers.get()` and `text()` on responses (RPC, upload,
 * token calls). Only its `filesDownload` needs node-fetch's `res.buffer()`, and we never call it.
 */
export function createDropboxFetch(
  hosts: DropboxHosts,
  signals: AsyncLocalStorage<AbortSignal | undefined>,
  base: FetchLike = (url, init) => fetch(url, init),
): FetchLike {
  const map: Array<[string, string]> = [
    [DROPBOX_API_BASE_URL, trimSlash(hosts.api)],
    [DROPBOX_CONTENT_BASE_URL, trimSlash(hosts.content)],
    [DROPBOX_NOTIFY_BASE_URL, trimSlash(hosts.notify)],
  ];
  return (url, init = {}) => {
    let target = String(url);
    for (const [from, to] of map) {
      if (target === from || target.startsWith(`${from}/`)) {
        target = to + target.slice(from.length);
        break;
      }
    }
    const signal = init.signal ?? signals.getStore();
    return base(target, signal ? { ...init, signal } : init);
  };
}
