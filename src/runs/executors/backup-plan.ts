/**
 * The planning side of a backup run (BackupExecution): walks the source, filters by extension,
 * drops a path the provider lists twice, and resolves the files a batch at a time against the
 * ledger, so only new and changed files reach the copy pool (the small ones through the batch
 * copies). Also the run log's account of what the listing could not do (unreadable folders, a
 * refused change cursor).
 */
import { isUnchanged } from '../../backup/plan/change-detection.js';
import { ExtensionFilter } from '../../backup/plan/extension-filter.js';
import type { SourcePlanner } from '../../backup/plan/source-planner.js';
import type { WalkedFile } from '../../backup/plan/walk.js';
import type { TaskEntity } from '../../tasks/entities/task.entity.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { BatchCopies } from './backup-batches.js';
import { describeError } from '../run-outcome.js';
import type { RunRecorder } from '../run-recorder.js';

/** Source paths resolved against the ledger per batch: one indexed query per 200 files. */
const PLAN_BATCH = 200;

/** What planning reads and updates of its run. */
export interface PlanContext {
  task: TaskEntity;
  versions: Pick<VersionsService, 'findCurrentFiles'>;
  rec: RunRecorder;
  signal: AbortSignal;
  /** Paths listed so far (the commit tells deleted files from kept ones by it). */
  seen: Set<string>;
  /** The small files' batch copies, when the run has them. */
  batches: BatchCopies | undefined;
  /** The run failed: nothing more is listed. */
  hasFailed: () => boolean;
}

/**
 * Walks the source, filters, and yields only what must be copied, a resolved batch at a time
 * (the pool hands out its files without an iterator step each); pulled by the pool.
 */
export async function* planCopies(
  planner: SourcePlanner,
  ctx: PlanContext,
): AsyncGenerator<WalkedFile[]> {
  const { counters } = ctx.rec;
  const filter = new ExtensionFilter(ctx.task.filterMode, ctx.task.filterExtensions);
  const { batches } = ctx;
  let batch: WalkedFile[] = [];
  try {
    for await (const f of planner.files()) {
      if (ctx.hasFailed() || ctx.signal.aborted) return;
      if (!filter.accepts(f.rel)) {
        counters.filesFiltered++;
        continue;
      }
      if (ctx.seen.has(f.rel)) continue; // a provider listing the same path twice
      ctx.seen.add(f.rel);
      counters.filesTotal++;
      counters.bytesTotal += f.entry.size ?? 0;
      batch.push(f);
      if (batch.length >= PLAN_BATCH) {
        const resolved = await resolve(batch, ctx);
        // The small files go to the batch copies; the pool gets the rest.
        yield batches ? await batches.take(resolved) : resolved;
        batch = [];
      }
    }
    // Listing is over here: say so before the last batch is handed out, not after its last
    // file was taken (on a small tree that was most of the run shown as "listing").
    let last = await resolve(batch, ctx);
    if (batches) last = await batches.take(last);
    await ctx.rec.phase('transferring');
    yield last;
    await batches?.finish();
  } finally {
    // Stopped early (cancelled, failed): the groups in flight end before the run does.
    await batches?.drain();
  }
}

async function resolve(batch: WalkedFile[], ctx: PlanContext): Promise<WalkedFile[]> {
  if (batch.length === 0) return [];
  const live = await ctx.versions.findCurrentFiles(
    ctx.task.id,
    batch.map((f) => f.rel),
  );
  const out: WalkedFile[] = [];
  for (const f of batch) {
    const stored = live.get(f.rel);
    if (stored && isUnchanged(stored, f.entry)) {
      ctx.rec.counters.filesUnchanged++;
      ctx.rec.counters.bytesUnchanged += f.entry.size ?? stored.size;
    } else out.push(f);
  }
  await ctx.rec.progress();
  return out;
}

/** Once the listing is over: what it could not do, in the run log. */
export function reportListingGaps(planner: SourcePlanner, rec: RunRecorder): void {
  for (const u of planner.unreadableFolders()) {
    // Counted as skipped: the run ends with a warning, and the folder's files stay as the
    // last version had them (not seen is not deleted).
    rec.fileFailed(
      u.rel,
      u.error,
      `${u.rel}/: folder skipped, it could not be listed: ${describeError(u.error)}`,
    );
  }
  if (planner.cursorWasRefused) {
    rec.warn('the stored change cursor was refused by the source; listed everything instead');
  }
}
