import type { Readable } from 'node:stream';
import type { UploadSessionHooks } from '../connector.js';
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
  /** Reports the session and what it confirmed; continues one an earlier attempt left. */
  session?: UploadSessionHooks;
}

export interface UploadResult {
  item: GraphDriveItem;
  /** QuickXorHash of the bytes read from the source, computed in flight. */
  quickXor: string;
  size: number;
}

/**
 * The bytes of the source between `start` (the first byte the server has not acknowledged) and
 * `start + length`, held in ONE buffer of one fragment allocated per upload and filled in place.
 * Each source byte is hashed once, when it is read; a source piece that does not fit waits in
 * `pending` for the next fill. Bytes are dropped as soon as the server acknowledges them (those
 * it still lacks move to the front), so the upload holds one fragment plus at most one source
 * piece, whatever the file size.
 */
class FragmentWindow {
  private readonly buf: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  length = 0;
  start = 0;
  ended = false;
  readonly digest = new QuickXorHash();
  private readonly it: AsyncIterator<unknown>;

  constructor(source: Readable, capacity: number) {
    this.it = source[Symbol.asyncIterator]();
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes taken from the source so far (held, pending or already acknowledged). */
  get read(): number {
    return this.start + this.length + this.pending.length;
  }

  /** Fills the buffer up to `target` bytes (at most its capacity) or the end of the source. */
  async fill(target: number): Promise<void> {
    const want = Math.min(target, this.buf.length);
    while (this.length < want) {
      if (this.pending.length === 0) {
        if (this.ended) break;
        const r = await this.it.next();
        if (r.done) {
          this.ended = true;
          break;
        }
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        if (b.length === 0) continue;
        this.digest.update(b);
        this.pending = b;
      }
      const n = this.pending.copy(this.buf, this.length, 0, want - this.length);
      this.length += n;
      this.pending = this.pending.subarray(n);
    }
  }

  /** The first `n` bytes held (the fragment body): a view, valid until the next fill or drop. */
  peek(n: number): Buffer {
    return this.buf.subarray(0, n);
  }

  /** Forgets bytes before `offset` (the server has them); `offset` is at most `read`. */
  dropTo(offset: number): void {
    const drop = Math.min(Math.max(offset - this.start, 0), this.length + this.pending.length);
    if (drop === 0) return;
    if (drop < this.length) {
      this.buf.copyWithin(0, drop, this.length);
      this.length -= drop;
    } else {
      this.pending = this.pending.subarray(drop - this.length);
      this.length = 0;
    }
    this.start += drop;
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
 * upload cancels the session (DELETE uploadUrl) so no half file or stale session is left, except
 * a stop of a session the caller records (WriteMeta.session): that one is continued next time.
 */
export async function uploadInSession(
  t: UploadTarget,
  source: Readable,
  total: number,
): Promise<UploadResult> {
  const { client, what, signal } = t;
  const held = t.session?.resume ? await heldBy(t, t.session.resume, total) : undefined;
  const uploadUrl = held === undefined ? await createSession(t) : t.session!.resume!;
  const window = new FragmentWindow(source, t.fragmentSize);
  t.session?.onConfirmed(uploadUrl, held ?? 0);
  try {
    // A session an earlier attempt left: the bytes the server holds are read from the source
    // (the quickXorHash needs them) but not sent again.
    while (held !== undefined && window.start < held) {
      await window.fill(t.fragmentSize);
      if (window.length === 0 && window.ended) {
        throw new IntegrityError(
          `'${what}': the source ended after ${window.read} bytes; the upload session holds ${held}`,
        );
      }
      window.dropTo(held);
    }
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
      t.session?.onConfirmed(uploadUrl, window.start);
    }
  } catch (e) {
    // A stop (the run cancelled, the engine shutting down) keeps a session the caller records:
    // the next attempt continues it. Graph never shows a file whose session did not complete,
    // and drops the session when it expires.
    const keep = t.session !== undefined && (isAbortError(e) || signal?.aborted === true);
    if (!keep) {
      await client
        .api(uploadUrl)
        .delete()
        .catch(() => undefined);
    }
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

async function createSession(t: UploadTarget): Promise<string> {
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
  if (!session.uploadUrl)
    throw new FatalError(`'${what}': createUploadSession returned no uploadUrl`);
  return session.uploadUrl;
}

/**
 * The first byte an earlier attempt's session still expects (GET uploadUrl: nextExpectedRanges),
 * or undefined when it cannot be continued: gone (expired, cancelled, completed) or expecting a
 * byte past the file's size.
 */
async function heldBy(
  t: UploadTarget,
  uploadUrl: string,
  total: number,
): Promise<number | undefined> {
  try {
    const status = await t.client.call(
      'onedrive.uploadSessionStatus',
      t.what,
      () => t.client.api(uploadUrl, t.signal).get() as Promise<UploadSessionInfo>,
      t.signal,
    );
    const next = nextExpectedOffset(status.nextExpectedRanges);
    return next !== undefined && next <= total ? next : undefined;
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof FatalError) return undefined;
    throw e;
  }
}
