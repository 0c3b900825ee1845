import { Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Capabilities } from '../../connectors/capabilities.js';
import type { Connector, Entry, UploadSessionHooks } from '../../connectors/connector.js';
import {
  ConnectorError,
  IntegrityError,
  isTransientNetworkError,
  NotFoundError,
  TransientError,
} from '../../connectors/connector.errors.js';
import { canComputeHash } from '../../connectors/hashing/digests.js';
import {
  commonHashKinds,
  firstHashMismatch,
  HASH_KINDS,
  type HashKind,
  type HashSet,
} from '../../connectors/hashing/hash-kinds.js';
import { HashingTransform } from '../../connectors/hashing/hashing-transform.js';
import { hashingSettings } from '../../connectors/hashing/off-thread-hashing.js';
import { noteBytesStreamed } from '../../common/memory.js';
import { asOfflineError } from '../plan/root-presence.js';

/** The file was listed but is gone when read: deleted at the source in the meantime. */
export class SourceGoneError extends NotFoundError {}

/**
 * The bytes read differ from the hash the source itself reports for the file: a corrupted read,
 * a provider serving a stale or damaged copy, or the file changing while it was read. Retried;
 * never stored as good.
 */
export class SourceHashMismatchError extends ConnectorError {
  readonly code = 'INTEGRITY';
  override readonly retryable = true;
}

/** How often, at most, `onProgress` is told the bytes of the file so far: about 4x a second. */
export const PROGRESS_INTERVAL_MS = 250;

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
  /**
   * Hashes the source reported for the file when it was listed. The bytes read are checked
   * against them (computed in flight); a mismatch removes the copy and throws
   * SourceHashMismatchError.
   */
  sourceHashes?: HashSet;
  /**
   * Told the bytes of this file sent so far, at most every PROGRESS_INTERVAL_MS (and once at
   * the end), so a 2 GiB file shows progress inside it. `now` is the clock (milliseconds).
   */
  onProgress?: (bytesSoFar: number) => void;
  now?: () => number;
  /**
   * For targets that report no hash of the stored file (a local drive, WebDAV, SFTP): read the
   * stored copy back after the write and compare its SHA-256, closing the target side too.
   * Costs a second read of every byte on the target; a per-task choice.
   */
  readBack?: boolean;
  /**
   * A resumable upload: the target reports its session and the bytes it confirmed, and
   * continues the session `session.resume` names. The source is still read from byte 0: the
   * prefix the target holds is hashed (the whole file's SHA-256 and the target's own digest)
   * but not sent again.
   */
  session?: UploadSessionHooks;
  /** Passed to `target.write` (WriteMeta.deferSync): the caller calls the target's barrier. */
  deferSync?: boolean;
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
  // The benchmark's "source check off" row only (hashingSettings): nothing of the source compared.
  const sourceHashes = hashingSettings.sourceHashes === 'ignore' ? {} : (req.sourceHashes ?? {});
  const kinds = hashKindsToCompute(req.target.capabilities, sourceHashes);
  const input = await req.source
    .read(req.sourcePath, { signal: req.signal })
    .catch((e: unknown) => {
      if (e instanceof NotFoundError)
        throw new SourceGoneError(`'${req.sourcePath}' is no longer at the source`, { cause: e });
      throw asOfflineError(e, 'source');
    });
  const hashing = new HashingTransform(kinds, progressReporter(req), {
    expectedSize: req.expectedSize,
  });
  // Source -> hashing by pipe(), with the two ways a pipeline would tear them down done by hand:
  // a broken source destroys the hashing stream (so target.write rejects), and a hashing stream
  // that closes before the source ended (the target gave up on it) destroys the source. (A
  // stream pipeline per file built an AbortController and, at its end, a DOMException with a
  // stack: measurable on a run of small files.)
  // The listeners also keep an error from going unhandled (as a pipeline's do): the target sees
  // a destroyed body through its own listeners or iterator.
  let sourceError: unknown;
  input.on('error', (e) => {
    sourceError ??= e;
    hashing.destroy(e);
  });
  hashing.on('error', () => undefined);
  hashing.once('close', () => {
    if (!input.readableEnded && !input.destroyed) input.destroy();
  });
  const body = input.pipe(hashing);
  let stored: Entry;
  try {
    stored = await req.target.write(req.targetPath, body, {
      size: req.expectedSize,
      modifiedAt: req.modifiedAt,
      signal: req.signal,
      session: req.session,
      ...(req.deferSync ? { deferSync: true } : {}),
      // The hashing stream has seen every byte once the body ended: its digests are final, so
      // a connector that wants the whole body's SHA-256 need not compute it again (S3).
      digests: () => (hashing.isFinished ? hashing.hashes : undefined),
    });
  } catch (e) {
    // When the source broke, the target only saw its stream end badly: report the source's fault.
    if (sourceError !== undefined && !req.signal?.aborted)
      throw asSourceError(req.sourcePath, sourceError);
    throw asOfflineError(e, 'target');
  }

  if (!hashing.isFinished) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': the target reported success before reading the whole stream`,
    );
  }
  const size = hashing.bytes;
  req.onProgress?.(size);
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
  const lied = firstHashMismatch(computed, sourceHashes);
  if (lied) {
    await removeQuietly(req.target, req.targetPath);
    throw new SourceHashMismatchError(
      `'${req.sourcePath}': the bytes read do not match the source's own ${lied} hash (read ${computed[lied]}, source reports ${sourceHashes[lied]}); nothing was kept`,
    );
  }
  const mismatch = firstHashMismatch(computed, stored.hashes);
  if (mismatch) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': ${mismatch} hash differs (sent ${computed[mismatch]}, target has ${stored.hashes[mismatch]})`,
    );
  }
  if (req.readBack && commonHashKinds(computed, stored.hashes).length === 0) {
    await verifyByReadBack(req, size, computed.sha256!);
  }
  return { size, sha256: computed.sha256!, computed, stored };
}

/** Reads the stored copy back and compares its SHA-256; on a difference removes it and throws. */
async function verifyByReadBack(req: TransferRequest, size: number, sha256: string): Promise<void> {
  const back = new HashingTransform(['sha256'], undefined, { expectedSize: size });
  const stream = await req.target.read(req.targetPath, { signal: req.signal });
  await pipelineAsync(stream, back, new Writable({ write: (_c, _e, cb) => cb() }));
  if (back.bytes !== size || back.hashes.sha256 !== sha256) {
    await removeQuietly(req.target, req.targetPath);
    throw new IntegrityError(
      `'${req.targetPath}': read back ${back.bytes} bytes with SHA-256 ${back.hashes.sha256}, wrote ${size} with ${sha256}`,
    );
  }
}

/** Chains `onBytes` and a throttled `onProgress` into the one per-chunk callback of the hashing stream. */
function progressReporter(req: TransferRequest): (n: number) => void {
  const { onBytes, onProgress } = req;
  if (!onProgress) {
    return (n) => {
      noteBytesStreamed(n);
      onBytes?.(n);
    };
  }
  const now = req.now ?? Date.now;
  let sent = 0;
  let last = now();
  return (n) => {
    noteBytesStreamed(n);
    onBytes?.(n);
    sent += n;
    const t = now();
    if (t - last >= PROGRESS_INTERVAL_MS) {
      last = t;
      onProgress(sent);
    }
  };
}

/** Cheapest first: what one extra in-flight digest costs per byte. */
const VERIFY_COST_ORDER: readonly HashKind[] = ['sha256', 'sha1', 'md5', 'dropbox', 'quickXor'];

/**
 * SHA-256 (the ledger's hash), at most ONE kind the target reports, and EVERY kind the source
 * reported for the file that the engine can compute.
 *
 * The target side: none when the target reports SHA-256 itself or its write() already checks a
 * kind it reports (OneDrive's quickXor, Dropbox's content hash: computing it again here repeated
 * the connector's work on every byte), else its cheapest computable kind. One matching digest of
 * the stored bytes proves them as well as three.
 *
 * The source side: each reported kind is a claim of the provider about the file, and a claim not
 * checked is one a damaged or stale copy may carry unseen (a provider whose MD5 was computed
 * from other bytes than its SHA-1, a metadata record out of step with the content), so all are
 * compared, not one. What that costs per byte is paid off the main thread for large files
 * (HashingTransform: `offThreadFrom`), so it does not slow the copy while a core is free.
 */
export function hashKindsToCompute(
  target: Pick<Capabilities, 'hashes' | 'verifiesWrites'>,
  sourceHashes: HashSet = {},
): HashKind[] {
  const kinds: HashKind[] = ['sha256'];
  const checksItself = target.verifiesWrites && target.hashes.includes(target.verifiesWrites);
  const check = checksItself
    ? undefined
    : VERIFY_COST_ORDER.find((k) => target.hashes.includes(k) && canComputeHash(k));
  if (check && check !== 'sha256') kinds.push(check);
  for (const k of HASH_KINDS) {
    if (sourceHashes[k] !== undefined && canComputeHash(k) && !kinds.includes(k)) kinds.push(k);
  }
  return kinds;
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
