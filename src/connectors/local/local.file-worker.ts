import { Worker } from 'node:worker_threads';
import {
  FatalError,
  InvalidPathError,
  IsADirectoryError,
  NotADirectoryError,
  RootMissingError,
  TransientError,
} from '../connector.errors.js';
import { mapFsError } from './local.errors.js';
import { localFileWorkerMain } from './local.file-worker.body.js';
import type {
  CopyItemResult,
  CopyJob,
  FileWorkerData,
  FromFileWorker,
  ListPage,
  ToFileWorker,
  WorkerFailure,
} from './local.file-worker.protocol.js';

/**
 * Each file worker's one read buffer: a file smaller than it is read whole in one read and written
 * in one write; a larger one goes through it a chunk at a time (1 MiB: a 2-8 MiB photo in 2-8
 * reads and writes; two threads hold 2 MiB).
 */
export const FILE_WORKER_BUFFER_BYTES = 1024 * 1024 + 1;
/** A thread with no job for this long exits (its memory goes back to the system). */
const IDLE_EXIT_MS = 30_000;
/** Entries per listing job: a folder of 100,000 files is 25 jobs, each page ~1 MiB to copy. */
const LIST_PAGE = 4096;

/** Distributes `Omit` over a union (each message without its `id`). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  resolve: (m: FromFileWorker) => void;
  reject: (e: Error) => void;
}

/**
 * The process's one file worker thread for local folders (its code: local.file-worker.body.ts):
 * batch copies and folder listings, each one job of synchronous file-system calls. Started on
 * the first job, referenced (it keeps the process alive) only while jobs are in flight, ended
 * after IDLE_EXIT_MS without one. Jobs run one after the other in the order posted.
 *
 * When the thread dies (a bug, out of its heap limit, terminated) every job in flight fails with
 * a TransientError naming it, and the next job starts a new thread.
 *
 * Measured (docs/benchmarks.md, "Batch copies and listings on one file worker"): ~8 MiB of
 * resident memory while it lives, idle or busy; the heap limits below bound what a job can
 * allocate (a listing page, a batch's results), the read buffer is one for the thread's life.
 */
export class LocalFileWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;

  /** One batch copy; resolves with the worker's answer (a crash rejects). */
  async copy(
    job: CopyJob,
    cancel: Int32Array,
  ): Promise<{ results: CopyItemResult[]; folders: string[] }> {
    const m = await this.post({ t: 'copy', job, cancel });
    if (m.t !== 'copied') throw new FatalError(`local file worker: unexpected answer '${m.t}'`);
    return m;
  }

  /** One page of a folder's listing (handle 0: the first). */
  async list(root: string, rel: string, handle: number): Promise<ListPage | WorkerFailure> {
    const m = await this.post({ t: 'list', root, rel, handle });
    if (m.t === 'listed') return m.page;
    if (m.t === 'list-failed') return m.failure;
    throw new FatalError(`local file worker: unexpected answer '${m.t}'`);
  }

  /** A listing left before its end: the worker closes the folder. */
  async closeListing(handle: number): Promise<void> {
    await this.post({ t: 'list-close', handle });
  }

  /** Jobs posted and not answered yet. */
  get jobsInFlight(): number {
    return this.pending.size;
  }

  /** Whether the thread is running (tests, measurements). */
  get isRunning(): boolean {
    return this.worker !== undefined;
  }

  /** Ends the thread now: jobs in flight fail as on a crash (tests, shutdown). */
  async terminate(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
  }

  private post(m: WithoutId<ToFileWorker>): Promise<FromFileWorker> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<FromFileWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...m, id } as ToFileWorker);
    });
  }

  private thread(): Worker {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.worker) return this.worker;
    const workerData: FileWorkerData = {
      bufferBytes: FILE_WORKER_BUFFER_BYTES,
      listPage: LIST_PAGE,
    };
    // Small heaps: the thread holds one job's paths and results; its read buffer is outside
    // the heap. (The hashing worker's limits, off-thread-hashing.ts.)
    const worker = new Worker(`(${localFileWorkerMain.toString()})()`, {
      eval: true,
      workerData,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    worker.unref();
    worker.on('message', (m: FromFileWorker) => this.answer(m));
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      const calls = [...this.pending.values()];
      this.pending.clear();
      for (const p of calls) p.reject(new TransientError(`${why}; the call was not completed`));
    };
    worker.on('error', (e) => lost(`the local file worker thread failed: ${e.message}`));
    worker.on('exit', (code) => lost(`the local file worker thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private answer(m: FromFileWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.idle();
    p.resolve(m);
  }

  private idle(): void {
    const worker = this.worker;
    if (!worker) return;
    worker.unref();
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = undefined;
      void worker.terminate();
    }, IDLE_EXIT_MS);
    this.idleTimer.unref();
  }
}

/** What a local connector asks of its file worker(s). */
export type LocalFileJobs = Pick<LocalFileWorker, 'copy' | 'list' | 'closeListing'>;

/**
 * Two file workers: listings on the first (a listing's open folder handle lives on its thread),
 * batch copies on whichever has fewer jobs in flight. On ext4 most of a small file's copy is the
 * kernel creating it, and one thread made the run's two groups in flight wait on each other:
 * 10,000 small files took 3.2-3.8 s of wall time for 2.8 s of the engine's CPU on two cores
 * (docs/benchmarks.md, "Every change of stop 20 merged"). The second thread starts only when
 * two copies are in flight at once (a local folder to a local folder), costs ~8-9 MiB while it
 * lives, and exits when idle like the first.
 */
export class LocalFileWorkerPair implements LocalFileJobs {
  private readonly first = new LocalFileWorker();
  private readonly second = new LocalFileWorker();

  copy(job: CopyJob, cancel: Int32Array): ReturnType<LocalFileWorker['copy']> {
    const w = this.first.jobsInFlight <= this.second.jobsInFlight ? this.first : this.second;
    return w.copy(job, cancel);
  }

  list(root: string, rel: string, handle: number): ReturnType<LocalFileWorker['list']> {
    return this.first.list(root, rel, handle);
  }

  closeListing(handle: number): Promise<void> {
    return this.first.closeListing(handle);
  }

  /** Ends both threads now (tests). */
  async terminate(): Promise<void> {
    await Promise.all([this.first.terminate(), this.second.terminate()]);
  }
}

let shared: LocalFileWorkerPair | undefined;

/** The process's file workers, shared by every local connector (two threads, not two each). */
export function sharedLocalFileWorker(): LocalFileJobs {
  shared ??= new LocalFileWorkerPair();
  return shared;
}

/**
 * The connector error for a failure the worker reported at `rel`, as read() and write() throw
 * it for the same cause. `rootMissing` gives the target's RootMissingError (with the volume's
 * own wording).
 */
export function failureError(f: WorkerFailure, rel: string): Error {
  switch (f.kind) {
    case 'fs':
      return mapFsError(Object.assign(new Error(f.message), { code: f.code }), rel);
    case 'size':
    case 'not-file':
      return new TransientError(`'${rel}' changed since it was listed: ${f.message}`);
    case 'source-folder':
      return new IsADirectoryError(`'${rel}' is a folder`);
    case 'outside':
      return new InvalidPathError(`'${rel}' leads outside the account's folder (a symbolic link)`);
    case 'file-in-way':
      return new NotADirectoryError(`cannot create the folder of '${rel}': a file is in the way`, {
        providerCode: f.code,
      });
    case 'target-folder':
      return new IsADirectoryError(`'${rel}' is a folder; a file cannot replace it`);
    case 'root-missing':
      return new RootMissingError(f.message);
    case 'aborted':
      return new DOMException('This operation was aborted', 'AbortError');
  }
}
