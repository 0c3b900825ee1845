import { Readable } from 'node:stream';
import type { CallOptions, ConnectorPath, Entry, WriteMeta } from '../connector.js';
import { IntegrityError, UnsupportedError } from '../connector.errors.js';
import { QuickXorHash } from '../hashing/quickxor-hash.js';
import type { Pacer } from '../pacer/pacer.js';
import type { GraphDriveItem } from './api/types.js';
import { uploadInSession } from './onedrive-upload.js';
import type { OneDriveClient } from './onedrive.client.js';
import { toEntry } from './onedrive.mapper.js';
import { drivePrefix, itemPathAddress } from './onedrive.names.js';
import { SIMPLE_UPLOAD_MAX, type OneDriveOptions } from './onedrive.options.js';

/** Largest stream of unknown size an upload counts in memory before sending it (see `upload`). */
export const UNKNOWN_SIZE_MAX = 16 * 1024 * 1024;

/**
 * Puts a file's bytes on OneDrive: small files in one PUT, others through an upload session, and
 * every upload checked against the size and quickXorHash Graph reports (a mismatch deletes it).
 * The caller has made sure the parent folder exists.
 */
export class OneDriveWriter {
  constructor(
    private readonly client: OneDriveClient,
    private readonly pacer: Pacer,
    private readonly options: OneDriveOptions,
  ) {}

  async upload(rel: ConnectorPath, body: Readable, meta: WriteMeta): Promise<Entry> {
    const smallMax = Math.min(SIMPLE_UPLOAD_MAX, this.options.uploadFragmentSize);
    if (meta.size !== undefined && meta.size <= smallMax) {
      const data = await readUpTo(body[Symbol.asyncIterator](), meta.size + 1);
      if (data.length !== meta.size) {
        throw new IntegrityError(
          `'${rel}': the source yielded ${data.length} bytes, ${meta.size} were announced`,
        );
      }
      return this.simpleUpload(rel, data, meta);
    }
    if (meta.size !== undefined) return this.sessionUpload(rel, body, meta.size, meta);
    // Unknown size. Graph needs the total in every fragment's Content-Range (`/*` is refused,
    // microsoft-graph-docs #7882), so the bytes are counted before the upload starts: in memory,
    // never on disk, and only up to UNKNOWN_SIZE_MAX. The one source without sizes here is Google
    // Drive's export of native documents, which Drive caps at 10 MB.
    const it = body[Symbol.asyncIterator]();
    const head = await readUpTo(it, smallMax + 1);
    if (head.length <= smallMax) return this.simpleUpload(rel, head, meta);
    const tail = await readUpTo(it, UNKNOWN_SIZE_MAX + 1 - head.length);
    if (head.length + tail.length > UNKNOWN_SIZE_MAX) {
      throw new UnsupportedError(
        `'${rel}': OneDrive needs a file's size before its upload starts; the source did not ` +
          `give one, and past ${UNKNOWN_SIZE_MAX / 1024 / 1024} MiB the engine does not hold a file ` +
          'in memory to count it',
      );
    }
    const data = Buffer.concat([head, tail]);
    return this.sessionUpload(rel, Readable.from([data]), data.length, meta);
  }

  private async simpleUpload(rel: ConnectorPath, data: Buffer, meta: WriteMeta): Promise<Entry> {
    const digest = new QuickXorHash();
    digest.update(data);
    const quickXor = digest.digest();
    const address = itemPathAddress(this.options.driveId, rel);
    let item = await this.client.call(
      'onedrive.put',
      rel,
      () =>
        this.client
          .api(`${address}/content?@microsoft.graph.conflictBehavior=replace`, meta.signal)
          .header('Content-Type', 'application/octet-stream')
          .put(data) as Promise<GraphDriveItem>,
      meta.signal,
    );
    await this.verify(rel, item, data.length, quickXor, meta);
    if (meta.modifiedAt) {
      // A simple PUT cannot carry fileSystemInfo: set it afterwards.
      const itemId = item.id;
      item = await this.client.call(
        'onedrive.patch',
        rel,
        () =>
          this.client
            .api(
              `${drivePrefix(item.parentReference?.driveId ?? this.options.driveId)}/items/${encodeURIComponent(itemId)}`,
              meta.signal,
            )
            .patch({
              fileSystemInfo: { lastModifiedDateTime: meta.modifiedAt!.toISOString() },
            }) as Promise<GraphDriveItem>,
        meta.signal,
      );
    }
    return toEntry(item, rel);
  }

  private async sessionUpload(
    rel: ConnectorPath,
    body: Readable,
    total: number,
    meta: WriteMeta,
  ): Promise<Entry> {
    const result = await uploadInSession(
      {
        client: this.client,
        pacer: this.pacer,
        address: itemPathAddress(this.options.driveId, rel),
        what: rel,
        fragmentSize: this.options.uploadFragmentSize,
        modifiedAt: meta.modifiedAt,
        signal: meta.signal,
        session: meta.session,
      },
      body,
      total,
    );
    await this.verify(rel, result.item, result.size, result.quickXor, meta);
    return toEntry(result.item, rel);
  }

  /** Size and quickXorHash the service reports must match what was sent; else delete and fail. */
  private async verify(
    rel: ConnectorPath,
    item: GraphDriveItem,
    size: number,
    quickXor: string,
    opts: CallOptions,
  ): Promise<void> {
    const reported = item.file?.hashes?.quickXorHash;
    const sizeOk = item.size === undefined || item.size === size;
    const hashOk = reported === undefined || reported === quickXor;
    if (sizeOk && hashOk) return;
    await this.client
      .call(
        'onedrive.delete',
        rel,
        () =>
          this.client
            .api(
              `${drivePrefix(item.parentReference?.driveId ?? this.options.driveId)}/items/${encodeURIComponent(item.id)}`,
              opts.signal,
            )
            .delete() as Promise<unknown>,
        opts.signal,
      )
      .catch(() => undefined);
    throw new IntegrityError(
      `'${rel}': OneDrive stored ${item.size ?? '?'} bytes with quickXorHash ${reported ?? '?'}, ` +
        `but ${size} bytes with quickXorHash ${quickXor} were sent; the upload was deleted`,
    );
  }
}

/**
 * Reads from `it` until at least `limit` bytes or the end. Works on the iterator (not `for await`
 * on the stream, whose early exit would destroy the stream) so the rest can still be read.
 */
async function readUpTo(it: AsyncIterator<unknown>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < limit) {
    const r = await it.next();
    if (r.done) break;
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts, n);
}
