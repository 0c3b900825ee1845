import type {
  BatchCopier,
  CallOptions,
  ChangeFeed,
  Connector,
  PartialCleaner,
  RootPresence,
  ServerSideCopier,
  UploadSessionDiscarder,
  WriteBarrier,
} from './connector.js';
import type { ConnectorDescriptor, InteractiveSignIn } from './connector-descriptor.js';
import type { HashKind } from './hashing/hash-kinds.js';

/** What a connector can do, declared up front so the engine and the conformance suite adapt. */
export interface Capabilities {
  /** Hash kinds the provider reports on entries from list/stat/write. */
  hashes: readonly HashKind[];
  /**
   * write() checks this kind itself: computes it from the bytes it was given, compares it with
   * the provider's digest of the stored file, and throws IntegrityError (after removing the file)
   * when they differ. The engine then does not compute that kind a second time.
   */
  verifiesWrites?: HashKind;
  /** `read` honours `range` without downloading the skipped bytes. */
  rangedReads: boolean;
  /** Implements ChangeFeed. */
  changeFeed: boolean;
  /** Implements ServerSideCopier. */
  serverSideCopy: boolean;
  /** write/mkdir/remove are supported (false for read-only sources such as iCloud Photos). */
  writable: boolean;
  /** Why a read-only connector cannot be written to, for the message a user sees. */
  readOnlyReason?: string;
  /** Modification times given to `write` are kept. */
  preservesModifiedTime: boolean;
  /** Largest file the provider accepts, in bytes; undefined when unlimited. */
  maxFileSize?: number;
  /** Bytes per upload request/chunk; files above it take more than one request. */
  uploadChunkSize?: number;
  /** Entries per listing page requested from the provider. */
  listPageSize?: number;
}

export function hasChangeFeed(c: Connector): c is Connector & ChangeFeed {
  return (
    c.capabilities.changeFeed &&
    typeof (c as Partial<ChangeFeed>).changes === 'function' &&
    typeof (c as Partial<ChangeFeed>).currentCursor === 'function'
  );
}

export function hasServerSideCopy(c: Connector): c is Connector & ServerSideCopier {
  return (
    c.capabilities.serverSideCopy && typeof (c as Partial<ServerSideCopier>).copy === 'function'
  );
}

export function hasRootPresence(c: Connector): c is Connector & RootPresence {
  return typeof (c as Partial<RootPresence>).checkRoot === 'function';
}

export function hasPartialCleaner(c: Connector): c is Connector & PartialCleaner {
  return typeof (c as Partial<PartialCleaner>).removePartials === 'function';
}

export function hasWriteBarrier(c: Connector): c is Connector & WriteBarrier {
  return typeof (c as Partial<WriteBarrier>).flushWrites === 'function';
}

/**
 * The durability barrier of a connector (see WriteBarrier): files written with `deferSync`
 * before the call are durable when it resolves. A no-op for connectors durable on their answer.
 */
export async function flushWrites(c: Connector, opts?: CallOptions): Promise<void> {
  if (hasWriteBarrier(c)) await c.flushWrites(opts);
}

export function hasUploadSessionDiscarder(c: Connector): c is Connector & UploadSessionDiscarder {
  return typeof (c as Partial<UploadSessionDiscarder>).discardUploadSession === 'function';
}

/** The connector's accounts connect by password and a code from the user's devices (iCloud). */
export function hasInteractiveSignIn(
  d: ConnectorDescriptor,
): d is ConnectorDescriptor & { interactiveSignIn: InteractiveSignIn } {
  return d.interactiveSignIn !== undefined;
}

/** The target copies small files from `source` in batches (see BatchCopier). */
export function canCopyBatch(
  target: Connector,
  source: Connector,
): target is Connector & BatchCopier {
  const t = target as Partial<BatchCopier>;
  return (
    typeof t.copyBatch === 'function' &&
    typeof t.canCopyBatchFrom === 'function' &&
    t.canCopyBatchFrom(source)
  );
}
