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
 * The same request with a binary body handed to fetch as a one-chunk stream of the caller's own
 * bytes. Global fetch (undici) copies an ArrayBufferView body into a fresh ArrayBuffer on every
 * request, so each upload chunk would cost a second chunk of memory, left to the garbage
 * collector (measured: about 60 MiB above one chunk while uploading 1 GiB in 8 MiB chunks). A
 * stream body is written to the socket as is; Content-Length keeps it a plain fixed-length
 * request (no chunked encoding). The bytes must stay untouched until the response arrives: the
 * upload code reuses its chunk buffer only after each request has been answered.
 */
export function withStreamedBody(init: RequestInit): RequestInit {
  const body = init.body;
  if (!(body instanceof Uint8Array) || body.byteLength === 0) return init;
  const headers = new Headers(init.headers);
  headers.set('content-length', String(body.byteLength));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
  return { ...init, headers, body: stream, duplex: 'half' };
}

/**
 * The fetch handed to the SDK (and used for the raw download requests). The SDK always builds
 * `https://{api,content,notify}.dropboxapi.com/...` URLs (its `domain` option is meant for
 * Dropbox's own dev boxes); this rewrites those three origins to the configured hosts and
 * attaches `signal` (10.34's route methods take none: the client makes one SDK per signal). Upload
 * bodies (Buffers) go out without the copy fetch would make of them (`withStreamedBody`).
 *
 * 10.34 needs from it: `ok`, `status`, `headers.get()` and `text()` on responses (RPC, upload,
 * token calls). Only its `filesDownload` needs node-fetch's `res.buffer()`, and we never call it.
 */
export function createDropboxFetch(
  hosts: DropboxHosts,
  base: FetchLike = (url, init) => fetch(url, init),
  signal?: AbortSignal,
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
    const streamed = withStreamedBody(init);
    return base(target, signal && !init.signal ? { ...streamed, signal } : streamed);
  };
}
