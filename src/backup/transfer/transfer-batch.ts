import type { Capabilities } from '../../connectors/capabilities.js';
import {
  BATCH_COPY_MAX_BYTES,
  type BatchCopier,
  type BatchCopyItem,
  type BatchCopyResult,
  type Entry,
} from '../../connectors/connector.js';
import { IntegrityError, NotFoundError } from '../../connectors/connector.errors.js';

/** The largest file `copier` takes in a batch. */
export function batchLimitOf(copier: Pick<BatchCopier, 'batchCopyMaxBytes'>): number {
  return copier.batchCopyMaxBytes ?? BATCH_COPY_MAX_BYTES;
}

/**
 * Whether a listed file may go through a BatchCopier instead of transferFile: listed at a known
 * size up to the copier's `maxBytes` (batchLimitOf), with no hash of the source's own to check
 * the bytes against (a batch result carries only the SHA-256 of what it copied; transferFile
 * compares every kind the source reports), and small enough to go up in one request (no upload
 * session to keep).
 */
export function isBatchable(
  entry: Entry,
  target: Pick<Capabilities, 'uploadChunkSize'>,
  maxBytes: number,
): boolean {
  const size = entry.size;
  if (size === undefined || size > maxBytes) return false;
  for (const _kind in entry.hashes) return false;
  const chunk = target.uploadChunkSize;
  return chunk === undefined || size <= chunk;
}

/** What a batch result means for the run, after the checks transferFile makes of a copy. */
export type BatchVerdict =
  /** Stored under its final name, `size` bytes as listed, with this SHA-256. */
  | { kind: 'stored'; size: number; sha256: string }
  /** Deleted at the source since it was listed: not in this version. */
  | { kind: 'vanished'; error: Error }
  /**
   * Not stored as it must be: the file goes through the single path (transferFile with its
   * retries and error classification). `remove`: something was stored under the final name
   * that must not stay there if the single path fails too.
   */
  | { kind: 'single'; error: Error; remove: boolean };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks one result of a batch copy against its item, as transferFile checks a copy: the size
 * stored must be the size listed, and a SHA-256 must come with it. A result missing from the
 * list (a copier that returned fewer) is a failure of that file, never a file taken as stored.
 */
export function judgeBatchResult(
  item: BatchCopyItem,
  result: BatchCopyResult | undefined,
): BatchVerdict {
  if (result === undefined) {
    return {
      kind: 'single',
      error: new IntegrityError(`'${item.targetPath}': the batch copy returned no result for it`),
      remove: false,
    };
  }
  if (!result.ok) {
    if (result.side === 'source' && result.error instanceof NotFoundError)
      return { kind: 'vanished', error: result.error };
    return { kind: 'single', error: result.error, remove: false };
  }
  if (result.size !== item.expectedSize || !SHA256_HEX.test(result.sha256)) {
    return {
      kind: 'single',
      error: new IntegrityError(
        `'${item.sourcePath}': the batch copy stored ${result.size} bytes of the ${item.expectedSize} listed`,
      ),
      remove: true,
    };
  }
  return { kind: 'stored', size: result.size, sha256: result.sha256 };
}
