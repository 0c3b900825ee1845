import type { Readable } from 'node:stream';
import {
  FatalError,
  IntegrityError,
  NotFoundError,
  TransientError,
  isAbortError,
  InvalidRangeError,
} from '../connector.errors.js';
import { QuickXorHash } from '../hashing/quickxor-hash.js';
import type { Pacer } from '../pacer/pacer.js';
import type { GraphDriveItem, UploadSessionInfo } from './api/types.js';
import type { OneDriveClient } from './onedrive.client.js';

export interface UploadTarget {
  client: OneDriveClient;
  pacer: Pacer;
  /** Graph address of the target item by path, e.g. `/me/drive/root:/a/b.bin:`. */
  address: string;
  /** Connector path, for messages. */
  what: string;
  fragmentSize: number;
  modifiedAt?: Date;
  signal?: AbortSignal;
}

export interface UploadResult {
  item: GraphDriveItem;
  /** QuickXorHash of the bytes read from the source, computed in flight. */
  quickXor: string;
  size: number;
}

/**
 * The bytes of the source between `start` (the first byte the server has not acknowledged) and
 * `start + length`. Each source byte is hashed once, when it is read; bytes are dropped as soon
 * as the server acknowledges them, so at most about one fragment sits in memory.
 */
class FragmentWindow {
  private chunks: Buffer[] = [];
  length = 0;
  start = 0;
  ended = false;
  readonly digest = new QuickXorHash();
  private readonly it: AsyncIterator<unknown>;

  constructor(source: Readable) {
    this.it = source[Symbol.asyncIterator]();
  }

  get read(): number {
    return this.start + this.length;
  }

  async fill(target: number): Promise<void> {
    while (this.length < target && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (b.length === 0) continue;
      this.digest.update(b);
      this.chunks.push(b);
      this.length += b.length;
    }
  }

  /** A copy of the first `n` bytes (the fragment body). */
  peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    for (const c of this.chunks) {
      if (off >= n) break;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
    }
    return out;
  }

  /** Forgets bytes before `offset` (the server has them). */
  dropTo(offset: number): void {
    let drop = offset - this.start;
    while (drop > 0 && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      if (c.length <= drop) {
        this.chunks.shift();
        drop -= c.length;
        this.length -= c.length;
        this.start += c.length;
      } else {
        this.chunks[0] = c.subarray(drop);
        this.length -= drop;
        this.start += drop;
        drop = 0;
      }
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** First offset of `nextExpectedRanges` (["12345-"] or ["12345-67890"]). */
export function nextExpectedOffset(ranges: readonly string[] | undefined): number | undefined {
  const first = ranges?.[0];
  if (first === undefined) return undefined;
  const n = Number(first.split('-')[0]);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Sends a file of known `total` size through an upload session (protocols/onedrive.md section 7):
 * fragments of `fragmentSize` bytes (a multiple of 320 KiB), the last one shorter; Content-Range
 * carries the total in every fragment. A failed fragment (cut connection, 5xx, 429, 416) is not
 * re-sent blindly: the session status says which byte the server expects next (it may have kept
 * part of the fragment, at an offset that is not 320 KiB aligned), the window drops what the server
 * has, refills from the source to a full fragment, and sends from there. Any failure that ends the
 * upload cancels the session (DELETE uploadUrl) so no half file or stale session is left.
 */
export async function uploadInSession(
  t: UploadTarget,
  source: Readable,
  total: number,
): Promise<UploadResult> {
  const { client, what, signal } = t;
  const session = await client.call(
    'onedrive.createUploadSession',
    what,
    () =>
      client.api(`${t.address}/createUploadSession`, signal).post({
        item: {
          '@microsoft.graph.conflictBehavior': 'replace',
          ...(t.modifiedAt
            ? { fileSystemInfo: { lastModifiedDateTime: t.modifiedAt.toISOString() } }
            : {}),
        },
      }) as Promise<UploadSessionInfo>,
    signal,
  );
  const uploadUrl = session.uploadUrl;
  if (!uploadUrl) throw new FatalError(`'${what}': createUploadSession returned no uploadUrl`);
  const window = new FragmentWindow(source);
  try {
    let resync = false;
    for (;;) {
      await window.fill(t.fragmentSize);
      if (window.read > total) {
        throw new IntegrityError(
          `'${what}': the source yielded more than the announced ${total} bytes`,
        );
      }
      if (window.ended && window.read < total) {
        throw new IntegrityError(
          `'${what}': the source ended after ${window.read} of the announced ${total} bytes`,
        );
      }
      const outcome = await t.pacer.call(
        'onedrive.uploadFragment',
        async (): Promise<
          { refill: true } | { info: UploadSessionInfo & GraphDriveItem; sent: number }
        > => {
          if (resync) {
            const status = await client.once(
              what,
              () => client.api(uploadUrl, signal).get() as Promise<UploadSessionInfo>,
            );
            const next = nextExpectedOffset(status.nextExpectedRanges);
            if (next === undefined || next < window.start || next > window.read) {
              throw new FatalError(
                `'${what}': the upload session expects byte ${next ?? '?'}, outside the bytes in hand`,
              );
            }
            window.dropTo(next);
            resync = false;
            if (window.length < t.fragmentSize && !window.ended) return { refill: true };
          }
          const n = Math.min(window.length, t.fragmentSize);
          const start = window.start;
          const body = window.peek(n);
          try {
            const info = (await client.once(what, () =>
              client
                .api(uploadUrl, signal)
                .headers({
                  'Content-Range': `bytes ${start}-${start + n - 1}/${total}`,
                  'Content-Type': 'application/octet-stream',
                })
                .put(body),
            )) as UploadSessionInfo & GraphDriveItem;
            return { info, sent: n };
          } catch (e) {
            resync = true;
            // 416 fragmentOverlap: the server has (some of) these bytes; ask it where to go on.
            if (e instanceof InvalidRangeError)
              throw new TransientError(e.message, { cause: e, providerCode: e.providerCode });
            throw e;
          }
        },
        signal,
      );
      if ('refill' in outcome) continue;
      if (outcome.info.id !== undefined) {
        return { item: outcome.info, quickXor: window.digest.digest(), size: window.read };
      }
      window.dropTo(
        nextExpectedOffset(outcome.info.nextExpectedRanges) ?? window.start + outcome.sent,
      );
    }
  } catch (e) {
    await client
      .api(uploadUrl)
      .delete()
      .catch(() => undefined);
    await window.close().catch(() => undefined);
    if (e instanceof NotFoundError) {
      throw new TransientError(
        `'${what}': the upload session expired or vanished; the file must be sent again`,
        { cause: e },
      );
    }
    if (isAbortError(e)) throw e;
    throw e;
  }
}
