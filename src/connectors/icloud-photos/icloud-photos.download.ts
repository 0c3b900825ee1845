import { Readable } from 'node:stream';
import {
  ConnectorError,
  IntegrityError,
  InvalidRangeError,
  isTransientNetworkError,
  TransientError,
} from '../connector.errors.js';
import type { Pacer } from '../pacer/pacer.js';
import { USER_AGENT } from './icloud-auth.service.js';
import { mapHttpError } from './icloud-photos.errors.js';
import type { PhotoResource } from './icloud-photos.mapper.js';

export interface DownloadDeps {
  pacer: Pacer;
  fetchImpl: typeof fetch;
  now(): number;
  /** Re-queries the record for a fresh signed URL (they expire after about an hour: 410). */
  refresh(signal?: AbortSignal): Promise<PhotoResource>;
  /** URLs older than this are refreshed before use. */
  urlMaxAgeMs: number;
  /** Reopen attempts after a broken body before the stream errors. */
  maxReopens?: number;
}

/** Start (inclusive) and end (exclusive) byte of the wanted part. */
export interface ByteSpan {
  start: number;
  end: number;
}

class UrlExpired extends Error {}

/**
 * Streams one resource from the CDN. The first response is awaited before the stream is
 * returned (so a missing file fails `read`), a body that breaks is reopened with `Range` at the
 * byte it broke, a 410 (expired URL) re-queries the record and resumes there too, and the total
 * is checked against the size CloudKit reported: the stream errors rather than ending short.
 */
export async function openDownload(
  deps: DownloadDeps,
  initial: PhotoResource,
  filename: string,
  span: ByteSpan,
  signal?: AbortSignal,
): Promise<Readable> {
  let resource = initial;
  const expectedSize = initial.size;
  if (span.start > expectedSize)
    throw new InvalidRangeError(`range starts at ${span.start}, past the end (${expectedSize})`);
  if (span.start === span.end) return Readable.from([]);

  const fetchAt = async (
    pos: number,
  ): Promise<{ body: AsyncIterable<Uint8Array>; skip: number; cancel(): void }> =>
    deps.pacer.call(
      'cdn download',
      async () => {
        for (let refreshed = false; ; refreshed = true) {
          if (deps.now() - resource.fetchedAt > deps.urlMaxAgeMs) await refresh();
          try {
            return await request(pos);
          } catch (e) {
            if (!(e instanceof UrlExpired) || refreshed) {
              if (e instanceof UrlExpired)
                throw new TransientError('download URL expired again right after a refresh');
              throw e;
            }
            await refresh();
          }
        }
      },
      signal,
    );

  const refresh = async () => {
    const fresh = await deps.refresh(signal);
    if (
      fresh.size !== expectedSize ||
      (fresh.fileChecksum && resource.fileChecksum && fresh.fileChecksum !== resource.fileChecksum)
    ) {
      throw new IntegrityError(`'${filename}' changed in iCloud while it was being read`);
    }
    resource = fresh;
  };

  const request = async (pos: number) => {
    // `${f}` is CloudKit's filename placeholder in download URLs.
    const url = resource.downloadURL.replace('${f}', encodeURIComponent(filename));
    const partial = pos > 0 || span.end < expectedSize;
    let res: Response;
    try {
      res = await deps.fetchImpl(url, {
        headers: {
          'User-Agent': USER_AGENT,
          ...(partial ? { Range: `bytes=${pos}-${span.end - 1}` } : {}),
        },
        signal,
      });
    } catch (e) {
      if (isTransientNetworkError(e) || (e instanceof TypeError && !signal?.aborted)) {
        throw new TransientError(`download of '${filename}' failed to connect`, { cause: e });
      }
      throw e;
    }
    if (res.status === 410 || res.status === 403) {
      await res.body?.cancel();
      throw new UrlExpired();
    }
    if (res.status === 416) {
      await res.body?.cancel();
      throw new InvalidRangeError(`range ${pos}-${span.end - 1} not satisfiable for '${filename}'`);
    }
    if (res.status !== 200 && res.status !== 206) {
      const text = await res.text().catch(() => '');
      throw mapHttpError({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: text,
        where: `download '${filename}'`,
      });
    }
    if ((res.headers.get('content-type') ?? '').includes('text/html')) {
      // The CDN occasionally answers 200 with an HTML error page instead of the bytes.
      await res.body?.cancel();
      throw new TransientError(`download of '${filename}' returned an HTML error page`);
    }
    let skip = 0;
    if (res.status === 200 && pos > 0) skip = pos; // server ignored Range: drop what we have
    if (res.status === 206) {
      const m = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== pos) {
        await res.body?.cancel();
        throw new TransientError(`CDN answered a different range than asked for '${filename}'`);
      }
    }
    const body = res.body;
    if (!body) throw new TransientError(`download of '${filename}' has no body`);
    return {
      body: body as unknown as AsyncIterable<Uint8Array>,
      skip,
      cancel: () => void body.cancel().catch(() => undefined),
    };
  };

  let current = await fetchAt(span.start);
  const maxReopens = deps.maxReopens ?? 5;

  async function* bytes(): AsyncGenerator<Buffer> {
    let pos = span.start;
    let reopens = 0;
    try {
      for (;;) {
        try {
          let skip = current.skip;
          for await (const chunk of current.body) {
            let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            if (skip > 0) {
              const drop = Math.min(skip, buf.length);
              skip -= drop;
              buf = buf.subarray(drop);
              if (buf.length === 0) continue;
            }
            if (pos + buf.length > span.end) {
              throw new IntegrityError(
                `'${filename}' is longer than the ${expectedSize} bytes iCloud reported`,
              );
            }
            pos += buf.length;
            yield buf;
          }
          if (pos === span.end) return;
          throw new TransientError(`download of '${filename}' ended at byte ${pos} of ${span.end}`);
        } catch (e) {
          signal?.throwIfAborted();
          const retryable =
            (e instanceof ConnectorError && e.retryable) ||
            isTransientNetworkError(e) ||
            e instanceof TypeError;
          if (!retryable || e instanceof IntegrityError || reopens >= maxReopens) throw e;
          reopens++;
          current.cancel();
          current = await fetchAt(pos);
        }
      }
    } finally {
      current.cancel();
    }
  }

  return Readable.from(bytes(), { objectMode: false, highWaterMark: 256 * 1024 });
}
