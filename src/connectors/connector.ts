import type { Readable } from 'node:stream';
import type { Capabilities } from './capabilities.js';
import type { HashSet } from './hashing/hash-kinds.js';

/**
 * Paths in the contract are connector-relative, '/'-separated and never start or end with '/'.
 * The root of the account (or of the folder the account was configured with) is ''.
 * `normalizePath` in `path.ts` turns user input into this form and refuses `..`, NUL and the like.
 */
export type ConnectorPath = string;

export type EntryKind = 'file' | 'folder';

/** One item as the provider describes it. */
export interface Entry {
  /** Connector-relative path, as accepted by `stat`/`read`. */
  path: ConnectorPath;
  /** Last path component. */
  name: string;
  kind: EntryKind;
  /** The provider's own id (Drive file id, Graph item id, Dropbox id...), when it has one. */
  id?: string;
  /** Bytes; always set for files, undefined for folders. */
  size?: number;
  modifiedAt?: Date;
  /** Content hashes the provider itself reports (never guessed): lowercase hex, or base64 for quickXor. */
  hashes: HashSet;
  /** Provider extras (photos: asset id, capture date, media type, live-photo pair...). */
  extras?: Record<string, unknown>;
}

export interface CallOptions {
  /** Every network call honours it: an aborted signal rejects with an AbortError promptly. */
  signal?: AbortSignal;
}

export interface ByteRange {
  /** First byte, 0-based. */
  offset: number;
  /** Number of bytes from offset; to the end of the file when omitted. */
  length?: number;
}

export interface ReadOptions extends CallOptions {
  range?: ByteRange;
}

export interface WriteMeta extends CallOptions {
  /** Total bytes the body will yield, when known; connectors must also accept streams of unknown size. */
  size?: number;
  /** Source modification time, preserved where the provider allows it. */
  modifiedAt?: Date;
  /**
   * A resumable upload (issue 18, item 6). Connectors that upload large files through a session
   * (Drive, OneDrive, Dropbox, S3 multipart) report it here and can continue one an earlier
   * attempt left; the others ignore it. Small files that go up in one request report nothing.
   */
  session?: UploadSessionHooks;
  /**
   * The caller will call `flushWrites` (see WriteBarrier) before it relies on this file's bytes
   * (records it for reuse, commits a version): a connector with a barrier may then return before
   * the bytes are durable (a local folder skips its fsync per file). Without the flag `write`
   * returns only once the bytes are durable, as before. Connectors without a barrier ignore it.
   */
  deferSync?: boolean;
  /**
   * The caller hashes every byte of `body` as it flows (the transfer core's HashingTransform:
   * SHA-256 always, plus the kinds it verifies). Called once the body has ended (the stream
   * gave its last chunk), it returns those digests (lowercase hex) of exactly the bytes the
   * connector received; before the end, undefined. A connector that needs a digest of the whole
   * body (S3: the SHA-256 in the metadata and the signed payload hash) takes it from here
   * instead of hashing the same bytes again. Given only with SHA-256 among the kinds; connectors
   * that do not need it ignore it.
   */
  digests?: () => HashSet | undefined;
}

/**
 * What a connector tells about an upload session, and the session it may continue. A locator is
 * the provider's handle of the session (Drive's resumable session URI, OneDrive's uploadUrl,
 * Dropbox's session id, S3's bucket/key/UploadId): bearer-like, whoever has it may write to the
 * file, so it is never logged and is stored sealed.
 */
export interface UploadSessionHooks {
  /**
   * The locator of a session an earlier attempt opened for the same file at the same path. The
   * connector asks the provider how many bytes it holds (Drive `bytes *\/N`, OneDrive's
   * nextExpectedRanges, Dropbox's correct_offset, S3's ListParts: the leading parts whose bytes
   * match), takes that many bytes of `body` without sending them, and sends the rest. `body` is always the whole file, so every hash computed
   * from it (the engine's and the connector's own) covers the whole file. A session the
   * provider no longer knows (expired, cancelled, completed) is replaced by a fresh upload.
   */
  resume?: string;
  /** Told when a session opens (confirmed 0, or what a resumed one held) and after each confirmed chunk. */
  onConfirmed(locator: string, confirmed: number): void;
}

/**
 * The contract every cloud implements. The engine only ever sees this interface (and the optional
 * ones in capabilities.ts), never a concrete connector.
 *
 * Errors are the typed ones in `connector.errors.ts`; foreign errors are mapped at the boundary.
 */
export interface Connector {
  /** Stable kind id, as in the registry: 'local', 'google-drive', ... */
  readonly kind: string;
  readonly capabilities: Capabilities;

  /**
   * The direct children of a folder, paged underneath: it never loads a whole folder or tree at
   * once. Order is unspecified.
   * Throws NotFoundError when `dir` does not exist, NotADirectoryError when it is a file.
   */
  list(dir: ConnectorPath, opts?: CallOptions): AsyncIterable<Entry>;

  /** Metadata of one item. Throws NotFoundError when it does not exist. */
  stat(path: ConnectorPath, opts?: CallOptions): Promise<Entry>;

  /**
   * The bytes of a file as a stream (optionally a range of them). Throws NotFoundError for a
   * missing path and IsADirectoryError for a folder; a range past the end yields an empty
   * stream (offset === size) or throws InvalidRangeError (offset > size). The stream errors
   * (never ends early and silently) when the provider connection breaks.
   */
  read(path: ConnectorPath, opts?: ReadOptions): Promise<Readable>;

  /**
   * Stores a file from a stream, creating missing parent folders and replacing an existing file
   * at that path. `meta.size` may be unknown. The file appears at `path` only once all bytes are
   * stored (no half-written file under the final name). Returns the entry as the provider now
   * reports it, including any hashes it computes. Throws IsADirectoryError when a folder sits at
   * `path`, QuotaExceededError when the provider is full. Missing parents are created, but never
   * the account's root itself: when the root is gone (an unplugged drive, a removed base folder)
   * it throws RootMissingError.
   */
  write(path: ConnectorPath, body: Readable, meta?: WriteMeta): Promise<Entry>;

  /**
   * Creates a folder and its missing parents; succeeds when it already exists. Like write, never
   * re-creates a missing account root (RootMissingError).
   */
  mkdir(path: ConnectorPath, opts?: CallOptions): Promise<Entry>;

  /** Removes a file, or a folder with everything in it. Throws NotFoundError when missing. */
  remove(path: ConnectorPath, opts?: CallOptions): Promise<void>;

  /** Releases sockets and timers. Optional. */
  close?(): Promise<void>;
}

/** One change reported by a change feed. */
export type Change =
  { type: 'upsert'; entry: Entry } | { type: 'delete'; path: ConnectorPath; id?: string };

export interface ChangePage {
  changes: Change[];
  /** Cursor to pass next time; store it only after the changes were applied. */
  cursor: string;
  /** More changes are waiting right now under `cursor`. */
  hasMore: boolean;
}

/**
 * Optional: providers with a change feed (Drive changes, Graph delta, Dropbox list_folder cursor,
 * CloudKit sync tokens). A cursor the provider no longer accepts throws CursorExpiredError and
 * the engine falls back to a full listing.
 */
export interface ChangeFeed {
  /** A cursor for "now", taken before a full listing so nothing falls between the two. */
  currentCursor(dir: ConnectorPath, opts?: CallOptions): Promise<string>;
  changes(dir: ConnectorPath, cursor: string, opts?: CallOptions): Promise<ChangePage>;
}

/** Optional: copies inside one account without moving bytes through the engine. */
export interface ServerSideCopier {
  copy(from: ConnectorPath, to: ConnectorPath, opts?: CallOptions): Promise<Entry>;
}

/**
 * Optional: connectors that write through hidden temporary names ('.cbe-partial-*', see
 * partial-name.ts) remove the ones a killed run left under a folder. Returns how many.
 */
export interface PartialCleaner {
  removePartials(folder: ConnectorPath, opts?: CallOptions): Promise<number>;
}

/**
 * Optional: connectors whose upload sessions the provider keeps until told otherwise (S3
 * multipart uploads have no expiry; their parts are billed) drop one that no attempt will
 * continue: the file changed or is gone. Best effort; never throws.
 */
export interface UploadSessionDiscarder {
  discardUploadSession(locator: string, opts?: CallOptions): Promise<void>;
}

/**
 * Optional: a durability barrier. A connector whose `write(..., { deferSync: true })` may return
 * before the bytes are durable (a local folder written without an fsync per file) makes every
 * file such writes stored before this call durable when it resolves: the file's bytes, its
 * name (the rename) and its folder. Connectors whose answer to a write already means durable
 * (every cloud: S3, WebDAV, SFTP's close, the cloud APIs) do not implement it: `flushWrites`
 * in capabilities.ts is then a no-op. Throws the connector's typed error when the flush fails
 * (a failed flush leaves those files not durable; the next call tries them again).
 */
export interface WriteBarrier {
  flushWrites(opts?: CallOptions): Promise<void>;
}

/**
 * One small file of a batch copy (see BatchCopier): read whole from the source at `sourcePath`,
 * written to `targetPath` of the copier.
 */
export interface BatchCopyItem {
  sourcePath: ConnectorPath;
  targetPath: ConnectorPath;
  /** The size the source listed: a file read at another size fails (side 'source', retryable). */
  expectedSize: number;
  modifiedAt?: Date;
}

/** What became of one item of a batch copy, in the order of the items. */
export type BatchCopyResult =
  /** Stored under its final name; `sha256` (lowercase hex) of exactly the bytes read and written. */
  | { ok: true; size: number; sha256: string }
  /**
   * Not stored (nothing is left under the final name, nor a temporary one). `side` says whose
   * fault: 'source' (gone: NotFoundError; changed size, unreadable...) or 'target' (full,
   * offline, refused...). `error` is a ConnectorError subclass where the cause is known.
   */
  | { ok: false; side: 'source' | 'target'; error: Error };

/**
 * Optional: a connector that copies many files from a source it can read directly (a local
 * folder from another local folder) in one call, each file read, hashed and written as
 * `write(..., { deferSync: true })` does (durable at the next `flushWrites`), without a stream
 * and a round trip of the engine per file (issue #21). `canCopyBatchFrom` says which sources; the
 * engine sends only files it listed at most `batchCopyMaxBytes` large (BATCH_COPY_MAX_BYTES when
 * the copier does not say). An aborted signal rejects the call; items not yet copied are then
 * not stored.
 */
export interface BatchCopier {
  /**
   * The largest file a batch may hold. A copier that streams each file in chunks (its memory the
   * same at any size) may take more than BATCH_COPY_MAX_BYTES: files of a few MiB (photos) then
   * skip the per-file stream too. Bounded all the same: a batch is one job a cancel waits for.
   */
  readonly batchCopyMaxBytes?: number;
  canCopyBatchFrom(source: Connector): boolean;
  copyBatch(
    source: Connector,
    items: readonly BatchCopyItem[],
    opts?: CallOptions,
  ): Promise<BatchCopyResult[]>;
}

/** Files at most this large may go through a BatchCopier that sets no batchCopyMaxBytes. */
export const BATCH_COPY_MAX_BYTES = 256 * 1024;

/** What a presence check found at the account's root. */
export type RootState =
  /** The root is there (and, where the connector can tell, it is the same volume as before). */
  | 'present'
  /** Nothing at the root path: an unplugged drive, an unmounted share, a removed folder. */
  | 'missing'
  /** Something is at the root path, but not the volume this account used before. */
  | 'not-this-volume';

export interface RootCheck {
  state: RootState;
  /** One sentence for the run log and the mail: what was found and what to do. */
  detail: string;
}

/**
 * Optional: connectors whose root can vanish (a local or external drive, a share) tell the
 * engine whether it is there before a run touches anything. The engine checks the source and the
 * target at the start of every run; anything but 'present' ends the run offline, writing nothing.
 * A connector may record a marker of its volume at the root on the first successful check, so
 * that an empty folder or another drive mounted at the same path is told apart.
 */
export interface RootPresence {
  checkRoot(opts?: CallOptions): Promise<RootCheck>;
}
