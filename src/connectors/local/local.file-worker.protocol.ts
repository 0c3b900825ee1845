/**
 * Messages between the main thread and the local file worker (local.file-worker.ts runs the
 * thread, local.file-worker.body.ts is its code). Plain data only: paths, numbers, error codes.
 */

/** Set once when the thread starts. */
export interface FileWorkerData {
  /** The reused read buffer holds one file of a batch copy: BATCH_COPY_MAX_BYTES (+1 to see growth). */
  bufferBytes: number;
  /** Entries of a folder answered per list job (a larger folder is listed in several). */
  listPage: number;
}

/** One small file of a copy job: paths relative to the source and the target roots. */
export interface CopyJobItem {
  src: string;
  dst: string;
  /** The temporary name in the target folder (partial-name.ts), made on the main thread. */
  tmp: string;
  size: number;
  /** The time to set, ms since the epoch; NaN for none (the file keeps the time of its write). */
  mtimeMs: number;
}

export interface CopyJob {
  /** The source's root as configured, and the target's. */
  srcRoot: string;
  dstRoot: string;
  items: CopyJobItem[];
  /** Target folders (relative) the connector knows to exist: no mkdir for them. */
  knownFolders: string[];
}

/** Main thread -> worker. */
export type ToFileWorker =
  /** `cancel[0]` becomes 1 when the caller aborted: stop after the current item, remove its temporary file. */
  | { t: 'copy'; id: number; job: CopyJob; cancel: Int32Array }
  /** The next page of folder `rel` under `root`; `handle` 0 opens it, else continues that listing. */
  | { t: 'list'; id: number; root: string; rel: string; handle: number }
  /** The caller stopped reading listing `handle`: close it. */
  | { t: 'list-close'; id: number; handle: number };

/**
 * Why an item or a listing failed, decided in the worker and turned into a connector error on
 * the main thread (local.file-worker.ts's `failureError`).
 */
export type FailureKind =
  /** A file-system call failed with `code` (mapped as mapFsError maps it). */
  | 'fs'
  /** The source's size is not the size listed (or it passed the batch limit). */
  | 'size'
  /** The source is a folder (read() says IsADirectory). */
  | 'source-folder'
  /** The source is not a regular file (a socket, device or fifo now). */
  | 'not-file'
  /** A symbolic link leads outside the root. */
  | 'outside'
  /** A file is in the way of a target folder to make. */
  | 'file-in-way'
  /** A folder is at the target's name. */
  | 'target-folder'
  /** The target root is not there: never created by the connector. */
  | 'root-missing'
  /** The caller aborted before this item was stored. */
  | 'aborted';

export interface WorkerFailure {
  kind: FailureKind;
  /** The errno code for 'fs' (ENOENT, ENOSPC, ...). */
  code?: string;
  message: string;
}

export type CopyItemResult =
  | { ok: true; size: number; sha256: string }
  | ({ ok: false; side: 'source' | 'target' } & WorkerFailure);

/** Entry kinds of a listing page. */
export const ENTRY_SKIP = 0;
export const ENTRY_FILE = 1;
export const ENTRY_FOLDER = 2;
export const ENTRY_ERROR = 3;

/** One page of a folder's entries, column by column (cheap to copy between threads). */
export interface ListPage {
  names: string[];
  /** ENTRY_* per name. */
  kinds: Uint8Array;
  sizes: Float64Array;
  mtimes: Float64Array;
  /** The failures of ENTRY_ERROR names, in order. */
  errors: WorkerFailure[];
  /** 0 when the folder is done, else the handle for the next page. */
  handle: number;
}

/** Worker -> main thread. */
export type FromFileWorker =
  | {
      t: 'copied';
      id: number;
      results: CopyItemResult[];
      /** Target folders (relative) found or made during the job. */
      folders: string[];
    }
  | { t: 'listed'; id: number; page: ListPage }
  /** A listing that could not start or continue (the folder itself). */
  | { t: 'list-failed'; id: number; failure: WorkerFailure }
  | { t: 'closed'; id: number };
