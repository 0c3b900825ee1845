import { pipeline } from 'node:stream';
import type { Capabilities } from '../../connectors/capabilities.js';
import type { Connector, Entry } from '../../connectors/connector.js';
import {
  ConnectorError,
  IntegrityError,
  isTransientNetworkError,
  NotFoundError,
  TransientError,
} from '../../connectors/connector.errors.js';
import { canComputeHash } from '../../connectors/hashing/digests.js';
import {
  firstHashMismatch,
  type HashKind,
  type HashSet,
} from '../../connectors/hashing/hash-kinds.js';
import { HashingTransform } from '../../connectors/hashing/hashing-transform.js';

/** The file was listed but is gone when read: deleted at the source in the meantime. */
export class SourceGoneError extends NotFoundError {}

export interface TransferRequest {
  source: Connector;
  sourcePath: string;
  target: Connector;
  targetPath: string;
  /** Size the source listed; the copy must match it. */
  expectedSize?: number;
  modifiedAt?: Date;
  signal?: AbortSignal;
  /** Told about bytes as they pass, for progress. */
  onBytes?: (n: number) => void;
}

export interface TransferResult {
  size: number;
  /** Computed in flight from the bytes that went to the target. */
  sha256: string;
  /** Everything computed in flight (sha256 plus the target's native kinds). */
  computed: HashSet;
  stored: Entry;
}

/**
 * Streams one file from source to target: source.read -> hashing -> target.write, with
 * backpressure end to end and nothing staged. Afterwards the sizes and every hash kind the target
 * reports are checked against what flowed; on a mismatch the stored copy is removed and the
 * transfer fails loudly.
 */
export async function transferFile(req: TransferRequest): Promise<TransferResult> {
  const kinds = hashKindsToCompute(req.target.capabilities);
  const input = await req.source
    .read(req.sourcePath, { signal: req.signal })
    .catch((e: unknown) => {
      throw e instanceof NotFoundError
        ? new SourceGoneError(`'${req.sourcePath}' is no longer at the source`, { cause: e })
        : e;
    });
  const hashing = new HashingTransform(kinds, req.onBytes);
  // Callback pipeline: returns the hashing stream for the target to consume, and destroys both
  // ends (so target.write rejects) if the source breaks.
  let sourceError: unknown;
  input.once('error', (e) => (sourceError ??= e));
  const body = pipeline(input, hashing, () => undefined);
  let stored: Entry;
  try {
    stored = await req.target.write(req.targetPath, body, {
      size: req.expectedSize,
      modifiedAt: req.modifiedAt,
      signal: req.signal,
    });
  } catch (e) {
    // When the source broke, the target only saw its stream end badly: report the source's fault.
    if (sourceError !== undefined && !req.signal?.aborted)
      throw asSourceError(req.sourcePath, sourceError);
    throw e;
  }

  if (!hashing.isFinished) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': the target reported success before reading the whole stream`,
    );
  }
  const size = hashing.bytes;
  if (req.expectedSize !== undefined && size !== req.expectedSize) {
    await removeQuietly(req.target, req.targetPath);
    // The source gave fewer or more bytes than it listed: a cut body or a file changing under us.
    throw new TransientError(
      `'${req.sourcePath}': the source sent ${size} bytes but listed ${req.expectedSize}; it is retried`,
    );
  }
  if (stored.size !== undefined && stored.size !== size) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': the target stored ${stored.size} bytes of ${size}`,
    );
  }
  const computed = hashing.hashes;
  const mismatch = firstHashMismatch(computed, stored.hashes);
  if (mismatch) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': ${mismatch} hash differs (sent ${computed[mismatch]}, target has ${stored.hashes[mismatch]})`,
    );
  }
  return { size, sha256: computed.sha256!, computed, stored };
}

/** Cheapest first: what one extra in-flight digest costs per byte (quickXor is plain JS). */
const VERIFY_COST_ORDER: readonly HashKind[] = ['sha256', 'sha1', 'md5', 'dropbox', 'quickXor'];

/**
 * SHA-256 (the ledger's hash) plus at most ONE kind the target reports, to check the stored copy:
 * none when the target reports SHA-256 itself or its write() already checks a kind it reports
 * (OneDrive's quickXor, Dropbox's content hash: computing it again here repeated the connector's
 * work on every byte), else its cheapest computable kind. One matching digest of the stored bytes
 * proves them as well as three; computing every advertised kind (Drive: MD5, SHA-1 and SHA-256)
 * cost a CPU core's worth of hashing per byte for nothing.
 */
export function hashKindsToCompute(
  target: Pick<Capabilities, 'hashes' | 'verifiesWrites'>,
): HashKind[] {
  if (target.verifiesWrites && target.hashes.includes(target.verifiesWrites)) return ['sha256'];
  const check = VERIFY_COST_ORDER.find((k) => target.hashes.includes(k) && canComputeHash(k));
  return check && check !== 'sha256' ? ['sha256', check] : ['sha256'];
}

/** A source stream that broke mid-body: typed errors stay, anything else is worth another try. */
function asSourceError(path: string, e: unknown): Error {
  if (e instanceof ConnectorError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const why = isTransientNetworkError(e)
    ? 'the source connection broke'
    : 'reading the source failed';
  return new TransientError(`'${path}': ${why} (${detail})`, { cause: e });
}

async function removeQuietly(target: Connector, path: string): Promise<void> {
  await target.remove(path).catch(() => undefined);
}
