const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * How a file's size weighs in the pool (issue #21). The task's concurrency counts files of a
 * usual size. A small file holds little memory and spends most of its time waiting on a request
 * or a file-system call, so two files under 1 MiB share a slot. A file of 1 MiB or more, or of
 * unknown size, takes a whole slot. A concurrency of 1 stays one file at a time: it is what an
 * owner picks to be gentle with a slow drive or a rate-limited account.
 *
 * Two, not four: four small files to a slot (16 in flight at the default concurrency) was faster
 * to SFTP and WebDAV but slower to s3rver on two cores, and raised the small-file peak to 195 MiB
 * of the 200 MiB budget; clouds that rate-limit writes (Dropbox, Drive) were not measured with it.
 */
const UNITS_PER_SLOT = 2;
function unitsOf(size: number | undefined): number {
  if (size === undefined) return UNITS_PER_SLOT;
  if (size < MiB) return 1;
  return UNITS_PER_SLOT;
}

/**
 * Bytes the files in flight may hold at once, each counted at its size up to PER_FILE_BYTES
 * (what a streaming transfer holds of one file at most: the S3 multipart path's part buffers,
 * 3 x 5 MiB; the other connectors hold less). 64 MiB is four large files, as at the default
 * concurrency of 4; a higher concurrency runs more small files but no more large ones, keeping
 * the engine under its 200 MiB peak (bench/support/peer-bench.ts checks it).
 */
const PER_FILE_BYTES = 16 * MiB;
const MAX_BYTES_IN_FLIGHT = 64 * MiB;

export interface PoolOptions<T> {
  /** The item's size in bytes, when known: with it, concurrency adapts to file size. */
  sizeOf?: (item: T) => number | undefined;
}

/**
 * Runs `worker` over the items of an async iterable with at most `concurrency` in flight. The
 * items are pulled one at a time as workers free up, so a producer that lists a huge tree is
 * never asked for more than the pool can take (backpressure on the plan, not only on bytes).
 *
 * With `sizeOf`, `concurrency` counts slots: two small files share one (see unitsOf), and
 * the bytes in flight stay within MAX_BYTES_IN_FLIGHT. Items still start in the order they come:
 * one waiting for room holds back the ones behind it. A worker's failure stops the pulling; the
 * ones in flight finish, then the pool rejects with the first error.
 */
export function runPool<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
  opts: PoolOptions<T> = {},
): Promise<void> {
  return drive(items, false, concurrency, worker, opts);
}

/**
 * runPool over items that come in batches (a planner resolving 200 paths against the ledger at
 * a time): the items of a batch are handed out without a trip through the async iterator each
 * (issue #21: an async generator's `next()` per small file costs several promises). The next
 * batch is pulled only when the last one is all handed out.
 */
export function runPoolOverBatches<T>(
  batches: AsyncIterable<readonly T[]>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
  opts: PoolOptions<T> = {},
): Promise<void> {
  return drive(batches, true, concurrency, worker, opts);
}

async function drive<T>(
  source: AsyncIterable<T> | AsyncIterable<readonly T[]>,
  batched: boolean,
  concurrency: number,
  worker: (item: T) => Promise<void>,
  opts: PoolOptions<T>,
): Promise<void> {
  const it = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const capacity = Math.max(1, concurrency) * UNITS_PER_SLOT;
  let batch: readonly T[] = [];
  let next = 0;
  let running = 0;
  let units = 0;
  let bytes = 0;
  let failure: { error: unknown } | undefined;
  // One waiter, woken when any worker ends: no Promise.race over the files in flight (which
  // attached a reaction to each of them for every file started: ~10 promises per small file).
  let wake: (() => void) | undefined;
  const waitForOne = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  try {
    for (;;) {
      let item: T;
      if (next < batch.length) item = batch[next++]!;
      else {
        const n = await it.next();
        if (n.done) break;
        if (batched) {
          batch = n.value as readonly T[];
          next = 0;
          continue;
        }
        item = n.value as T;
      }
      const size = opts.sizeOf?.(item);
      const cost = opts.sizeOf && concurrency > 1 ? unitsOf(size) : UNITS_PER_SLOT;
      const held = opts.sizeOf ? Math.min(size ?? PER_FILE_BYTES, PER_FILE_BYTES) : 0;
      while (
        running > 0 &&
        !failure &&
        (units + cost > capacity || bytes + held > MAX_BYTES_IN_FLIGHT)
      )
        await waitForOne();
      if (failure) break;
      units += cost;
      bytes += held;
      running++;
      const ended = () => {
        units -= cost;
        bytes -= held;
        running--;
        const w = wake;
        wake = undefined;
        w?.();
      };
      let work: Promise<void>;
      try {
        work = worker(item);
      } catch (e) {
        work = Promise.reject(e);
      }
      work.then(ended, (e: unknown) => {
        failure ??= { error: e };
        ended();
      });
    }
  } catch (e) {
    failure ??= { error: e };
  }
  while (running > 0) await waitForOne();
  if (failure) {
    await it.return?.();
    throw failure.error;
  }
}
