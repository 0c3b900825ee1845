/**
 * Runs `worker` over the items of an async iterable with at most `concurrency` in flight. The
 * items are pulled one at a time as workers free up, so a producer that lists a huge tree is
 * never asked for more than the pool can take (backpressure on the plan, not only on bytes).
 */
export async function runPool<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed) {
      const next = await it.next();
      if (next.done) return;
      await worker(next.value);
    }
  };
  const lanes = Array.from({ length: Math.max(1, concurrency) }, () =>
    lane().catch((e: unknown) => {
      failed = true;
      throw e;
    }),
  );
  const results = await Promise.allSettled(lanes);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) {
    await it.return?.();
    throw rejected.reason;
  }
}
