import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RunEntity, VerifyParams } from '../../tasks/entities/run.entity.js';
import type { TasksRepository } from '../../tasks/tasks.repository.js';
import { assertTargetPresent } from '../../backup/plan/root-presence.js';
import {
  FatalError,
  NotFoundError,
  TargetOfflineError,
} from '../../connectors/connector.errors.js';
import type { Connector } from '../../connectors/connector.js';
import { HashingTransform } from '../../connectors/hashing/hashing-transform.js';
import { baseName, parentPath } from '../../connectors/path.js';
import type { VersionFileEntity } from '../../versions/entities/version-file.entity.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { ConnectorProvider } from '../connector-provider.js';
import type { RunExecutor } from '../run-executor.js';
import { describeError } from '../run-outcome.js';
import type { RunRecorder } from '../run-recorder.js';

/** Records checked per ledger query. */
const PAGE = 500;
/** Folder listings kept while records of the same folders come by (records are in id order). */
const LISTING_CACHE = 64;

type Versions = Pick<
  VersionsService,
  'getVersion' | 'listVersions' | 'listRecordsForVerify' | 'markDamaged' | 'markVerified'
>;

/**
 * Verify runs (issue 18, item 3; like `restic check --read-data-subset`): every stored copy the
 * ledger points at, for one version or all versions of a task, is looked up in a listing of its
 * folder (exists, right size: cheap), and `readPercent` of them are read back and their SHA-256
 * compared with the ledger. Damage marks the versions holding the copy 'damaged' and closes its
 * current record, so the next backup stores the file again; the run ends with a warning listing
 * each damaged copy.
 */
export class VerifyExecutor implements RunExecutor {
  readonly kind = 'verify' as const;
  readonly firstPhase = 'transferring' as const;

  constructor(
    private readonly tasks: Pick<TasksRepository, 'findById'>,
    private readonly versions: Versions,
    private readonly connectors: Pick<ConnectorProvider, 'open'>,
  ) {}

  async execute(run: RunEntity, rec: RunRecorder, signal: AbortSignal): Promise<void> {
    const params = (run.params ?? { readPercent: 0 }) as VerifyParams;
    const task = await this.tasks.findById(run.taskId);
    if (!task) throw new FatalError(`task ${run.taskId} was deleted`);
    const version = params.versionId ? await this.versions.getVersion(params.versionId) : undefined;
    const target = await this.connectors.open(task.targetAccountId, {});
    try {
      try {
        // A verify of a target that is not there is an offline target, not a damaged backup.
        await assertTargetPresent(target, task.targetPath, { signal });
      } catch (e) {
        if (!(e instanceof TargetOfflineError)) throw e;
        await rec.finish('offline', { message: describeError(e) });
        return;
      }
      const damaged = await this.check(
        target,
        task.id,
        version?.seq,
        params.readPercent,
        rec,
        signal,
      );
      const reason = `${damaged.length} stored file(s) missing or different (verify run ${run.id})`;
      const seqs = await this.versions.markDamaged(task.id, damaged, reason);
      const checked = version ? [version] : await this.versions.listVersions(task.id);
      const sound = checked.filter(
        (v) => !seqs.includes(v.seq) && v.status !== 'discarded' && v.status !== 'running',
      );
      await this.versions.markVerified(
        sound.map((v) => v.id),
        new Date(),
      );
      if (damaged.length > 0) {
        await rec.progress(true);
        await rec.finish('warning', {
          message: `${reason}: version(s) ${seqs.join(', ')} marked damaged; the next backup stores the lost files again`,
        });
      }
    } finally {
      await target.close?.().catch(() => undefined);
    }
  }

  /** Checks every record in scope; returns the damaged ones (each logged with what is wrong). */
  private async check(
    target: Connector,
    taskId: string,
    seq: number | undefined,
    readPercent: number,
    rec: RunRecorder,
    signal: AbortSignal,
  ): Promise<VersionFileEntity[]> {
    const listings = new Map<string, Map<string, number | undefined> | null>();
    const damaged: VersionFileEntity[] = [];
    let index = 0;
    for (let afterId = 0; ;) {
      const page = await this.versions.listRecordsForVerify(taskId, seq, afterId, PAGE);
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      for (const r of page) {
        signal.throwIfAborted();
        await rec.checkpoint(signal);
        rec.counters.filesTotal++;
        rec.counters.bytesTotal += r.size;
        const problem =
          (await this.checkListed(target, r, listings, signal)) ??
          // An even spread of readPercent % of the copies: the i-th is read when the running
          // share crosses a whole number.
          (Math.floor(((index + 1) * readPercent) / 100) > Math.floor((index * readPercent) / 100)
            ? await this.checkBytes(target, r, rec, signal)
            : undefined);
        index++;
        if (problem) {
          damaged.push(r);
          rec.fileFailed(r.storedPath, undefined, `${r.storedPath}: ${problem}`);
        } else {
          rec.counters.filesUnchanged++;
        }
        await rec.progress();
      }
    }
    return damaged;
  }

  private async checkListed(
    target: Connector,
    r: VersionFileEntity,
    listings: Map<string, Map<string, number | undefined> | null>,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const folder = parentPath(r.storedPath);
    let listing = listings.get(folder);
    if (listing === undefined) {
      listing = new Map();
      try {
        for await (const e of target.list(folder, { signal }))
          if (e.kind === 'file') listing.set(e.name, e.size);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        listing = null;
      }
      if (listings.size >= LISTING_CACHE) listings.delete(listings.keys().next().value!);
      listings.set(folder, listing);
    }
    if (!listing?.has(baseName(r.storedPath))) return 'missing on the target';
    const size = listing.get(baseName(r.storedPath));
    if (size !== undefined && size !== r.size)
      return `${size} bytes on the target, the ledger says ${r.size}`;
    return undefined;
  }

  private async checkBytes(
    target: Connector,
    r: VersionFileEntity,
    rec: RunRecorder,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const hashing = new HashingTransform(['sha256'], (n) => rec.addBytes(n));
    try {
      const body = await target.read(r.storedPath, { signal });
      await pipeline(body, hashing, new Writable({ write: (_c, _e, cb) => cb() }), { signal });
    } catch (e) {
      if (e instanceof NotFoundError) return 'missing on the target';
      throw e;
    }
    if (hashing.bytes !== r.size)
      return `read back ${hashing.bytes} bytes, the ledger says ${r.size}`;
    if (hashing.hashes.sha256 !== r.sha256)
      return `SHA-256 read back ${hashing.hashes.sha256}, the ledger says ${r.sha256}`;
    rec.counters.filesCopied++; // read back and proven
    return undefined;
  }
}
