/**
 * The parts of the local connector's batch copy (copyBatch, local.connector.ts) that need none of
 * its state: which files a batch takes, each item in the form the file worker's job takes it
 * (local.file-worker.protocol.ts), and the wait for an answer that an abort cuts short.
 */
import type { BatchCopyItem, BatchCopyResult } from '../connector.js';
import { IsADirectoryError, TransientError } from '../connector.errors.js';
import { baseName, normalizePath } from '../path.js';
import { partialPathFor } from '../partial-name.js';
import type { CopyJobItem } from './local.file-worker.protocol.js';

/**
 * Files up to this size go through copyBatch (the file worker streams each through its 1 MiB
 * buffer, so memory is the same at any size): a photo's copy is then synchronous calls on a worker
 * thread instead of a stream of 256 KiB chunks through the event loop and libuv's pool, and two
 * threads copy while the main thread is free. Larger files keep the stream path, where progress
 * moves per chunk and a cancel stops a transfer within one (a 64 MiB file is ~0.1-0.3 s of one
 * thread; a batch is one job a cancel waits for).
 */
export const LOCAL_BATCH_MAX_BYTES = 64 * 1024 * 1024;

/** The file worker's form of one item of a batch, or its failure when its paths cannot be used. */
export function toCopyJobItem(
  item: BatchCopyItem,
): CopyJobItem | (BatchCopyResult & { ok: false }) {
  let src: string;
  try {
    src = normalizePath(item.sourcePath);
    if (src === '') throw new IsADirectoryError(`the source's root folder is not a file`);
  } catch (error) {
    return { ok: false, side: 'source', error: error as Error };
  }
  let dst: string;
  try {
    dst = normalizePath(item.targetPath);
    if (dst === '') throw new IsADirectoryError('cannot write a file over the root folder');
  } catch (error) {
    return { ok: false, side: 'target', error: error as Error };
  }
  if (item.expectedSize > LOCAL_BATCH_MAX_BYTES) {
    return {
      ok: false,
      side: 'source',
      error: new TransientError(
        `'${src}' is ${item.expectedSize} bytes, more than a batch copy takes`,
      ),
    };
  }
  return {
    src,
    dst,
    tmp: baseName(partialPathFor(dst)),
    size: item.expectedSize,
    mtimeMs: item.modifiedAt ? item.modifiedAt.getTime() : NaN,
  };
}

/** `p`, or a rejection with the signal's reason as soon as it aborts (`onAbort` runs first). */
export function untilAborted<T>(
  p: Promise<T>,
  signal?: AbortSignal,
  onAbort?: () => void,
): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason as Error);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e as Error);
      },
    );
  });
}
