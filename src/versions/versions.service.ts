import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import {
  ConflictAppError,
  NotFoundAppError,
  ValidationAppError,
} from '../common/errors/app-errors.js';
import type { Connector } from '../connectors/connector.js';
import { NotFoundError } from '../connectors/connector.errors.js';
import {
  checkDeletionGuard,
  DEFAULT_DELETION_THRESHOLDS,
  type DeletionThresholds,
  type GuardVerdict,
} from './deletion-guard.js';
import { selectVersionsToKeep, type RetentionPolicy } from './retention.js';
import { joinPath } from '../connectors/path.js';
import type { VersionFileEntity } from './entities/version-file.entity.js';
import type { VersionEntity } from './entities/version.entity.js';
import {
  MANIFEST_FORMAT,
  manifestBody,
  manifestBodyOfLines,
  type ManifestHeader,
  type ManifestLine,
  type ManifestRowPage,
} from './manifest.js';
import type { LiveChangeKey } from './ledger-run-reads.js';
import { ManifestLinesCache } from './manifest-lines-cache.js';
import type {
  StoredFile,
  VersionFilesPage,
  VersionLedgerRepository,
} from './version-ledger.repository.js';

/** What the ledger needs to know of a task; keeps versions free of backup's entities. */
export interface VersionedTask {
  id: string;
  name: string;
  sourcePath: string;
  targetPath: string;
}

/**
 * How a commit learns what left the source: after a full listing, every current path the run
 * did not see; after a change feed, the paths the feed reported deleted.
 *
 * `unchangedSeen`, after a full listing: how many distinct paths the run saw and found unchanged
 * against their current record (the run's `filesUnchanged`). When the ledger holds exactly that
 * many current records opened before the version, those are all of them (each one path, one
 * current record a path), so none went unseen and the commit skips reading every current record
 * to ask `isSeen` (issue #21: a no-change run of 10,000 files read 10,000 rows for nothing). Any
 * other count (a file copied again, skipped, filtered, deleted, under an unreadable folder)
 * falls back to asking `isSeen` of each. Holds because no other run of the task changes its
 * records meanwhile (one run of a task at a time).
 */
export type GoneFiles =
  { isSeen: (path: string) => boolean; unchangedSeen?: number } | { deletedPaths: string[] };

/** Records a manifest reads from the ledger per query. */
const MANIFEST_PAGE = 2000;

/** Folder under the task's target folder that holds the manifests. */
export const MANIFEST_FOLDER = '.cbe-manifests';

/** 'v000012_2026-11-22_031500': sorts by number, readable, legal on every provider. */
export function storageFolderName(seq: number, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '');
  return `v${String(seq).padStart(6, '0')}_${stamp}`;
}

export interface VersionFolderListing {
  folders: string[];
  files: VersionFileEntity[];
  truncated: boolean;
}

export interface VersionDiff {
  added: string[];
  changed: string[];
  deleted: string[];
}

export class VersionsService {
  constructor(
    private readonly ledger: VersionLedgerRepository,
    /** The last manifest lines of each task, for a version that changed nothing. */
    private readonly manifestLines = new ManifestLinesCache(),
  ) {}

  /** Opens version n+1 of the task, 'running' until committed. */
  async beginVersion(task: VersionedTask, runId: string, at: Date): Promise<VersionEntity> {
    const seq = await this.ledger.nextSeq(task.id);
    return this.ledger.createVersion({
      id: randomUUID(),
      taskId: task.id,
      runId,
      seq,
      storageFolder: joinPath(task.targetPath, storageFolderName(seq, at)),
      createdAt: at,
    });
  }

  /** What change detection needs of the current records of `paths`, by path. */
  findCurrentFiles(taskId: string, paths: string[]): Promise<Map<string, LiveChangeKey>> {
    return this.ledger.runReads.findLiveChangeKeys(taskId, paths);
  }

  recordStoredFiles(taskId: string, seq: number, files: StoredFile[]): Promise<void> {
    return this.ledger.recordStoredFiles(taskId, seq, files);
  }

  /**
   * Commits a version: closes the records of paths the run did not see, writes the manifest to the
   * target, and only then marks the version complete (with `alsoInTransaction`, the run's own
   * completion, in the same transaction). The deletion guard compares it with the last complete
   * version first: a version deleting or changing far more than usual is committed `held`
   * (its bytes and manifest kept, retention frozen) and the verdict says why.
   */
  async commitVersion(
    task: VersionedTask & { sourceAccountKind?: string },
    version: Pick<VersionEntity, 'id' | 'seq' | 'storageFolder'>,
    target: Connector,
    gone: GoneFiles,
    alsoInTransaction: (em: EntityManager, verdict: GuardVerdict) => Promise<void>,
    opts: { guard?: DeletionThresholds | null; skipped?: number } = {},
  ): Promise<GuardVerdict> {
    const guard = opts.guard === undefined ? DEFAULT_DELETION_THRESHOLDS : opts.guard;
    if ('isSeen' in gone) {
      const allSeen =
        gone.unchangedSeen !== undefined &&
        (await this.ledger.runReads.countCurrentBefore(task.id, version.seq)) ===
          gone.unchangedSeen;
      if (!allSeen) await this.ledger.runReads.closeUnseenPaths(task.id, version.seq, gone.isSeen);
    } else await this.ledger.closePaths(task.id, version.seq, gone.deletedPaths);
    const totals = await this.ledger.summarize(task.id, version.seq);
    const previous = await this.ledger.findLatestComplete(task.id);
    const change =
      previous && previous.seq < version.seq
        ? await this.ledger.countChanges(task.id, previous.seq, version.seq)
        : { deleted: 0, changed: 0 };
    const verdict = checkDeletionGuard(
      { previousFileCount: previous?.fileCount ?? null, fileCount: totals.fileCount, ...change },
      guard,
    );
    const manifestPath = joinPath(
      task.targetPath,
      MANIFEST_FOLDER,
      `v${String(version.seq).padStart(6, '0')}.jsonl`,
    );
    const header = {
      format: MANIFEST_FORMAT,
      taskId: task.id,
      taskName: task.name,
      seq: version.seq,
      versionId: version.id,
      createdAt: new Date().toISOString(),
      sourceAccountKind: task.sourceAccountKind ?? 'unknown',
      sourcePath: task.sourcePath,
      storageFolder: version.storageFolder,
    } as const;
    // When the version's files are the current records, and these are the very rows the task's
    // last manifest was made from, so are its lines.
    const live = await this.ledger.runReads.liveSetMark(task.id, version.seq);
    const sameLines = live && this.manifestLines.get(task.id, live);
    const manifest: { size: number; body: Readable; lines?: readonly Buffer[] } = sameLines
      ? manifestBodyOfLines(header, sameLines)
      : await manifestBody(header, () => this.pages(task.id, version.seq));
    await target.write(manifestPath, manifest.body, { size: manifest.size });
    await this.ledger.completeVersion(
      version.id,
      {
        ...totals,
        manifestPath,
        completedAt: new Date(),
        skippedCount: opts.skipped ?? 0,
        ...(verdict.verdict === 'hold' ? { status: 'held', statusReason: verdict.reason } : {}),
      },
      (em) => alsoInTransaction(em, verdict),
    );
    if (!live) this.manifestLines.forget(task.id);
    else if (manifest.lines) this.manifestLines.set(task.id, live, manifest.lines);
    return verdict;
  }

  /** An owner looked at a held version and agrees: it becomes complete, retention resumes. */
  async approveHeld(id: string): Promise<VersionEntity> {
    const v = await this.getVersion(id);
    if (v.status !== 'held')
      throw new ConflictAppError(`version ${v.seq} is ${v.status}, not held: nothing to approve`);
    await this.ledger.setVersionStatus(id, 'complete');
    return { ...v, status: 'complete' };
  }

  /**
   * An owner rejects a held version (the source was emptied by mistake): the ledger is put back
   * as it was before it, so the next run compares with the last good version; the bytes it
   * stored are freed by the next prune. Only the newest version of a task can be discarded.
   */
  async discardHeld(id: string): Promise<void> {
    const v = await this.getVersion(id);
    if (v.status !== 'held')
      throw new ConflictAppError(
        `version ${v.seq} is ${v.status}, not held: it cannot be discarded`,
      );
    const newest = (await this.ledger.listVersions(v.taskId))[0];
    if (newest && newest.seq !== v.seq) {
      throw new ConflictAppError(
        `version ${v.seq} is not the newest (version ${newest.seq} builds on it): approve or discard version ${newest.seq} first`,
      );
    }
    await this.ledger.discardNewestVersion(v.taskId, v.seq, v.id);
  }

  /**
   * Whether earlier versions of the task were written to its target folder (so the folder must
   * still be there when the next run starts).
   */
  async hasVersionsOnTarget(taskId: string): Promise<boolean> {
    const versions = await this.ledger.runReads.listVersionStates(taskId);
    if (versions.some((v) => v.status !== 'running' && v.status !== 'partial')) return true;
    // A partial version (a stopped run) holds the folder only if it stored something: a first
    // run killed before any file landed left nothing on a target whose folders exist only
    // through their files (Dropbox before the first commit, S3), and that is not "vanished".
    for (const v of versions) {
      if (v.status === 'partial' && (await this.ledger.hasStoredUnder(taskId, v.storageFolder)))
        return true;
    }
    return false;
  }

  /**
   * Storage folders of the partial versions newer than the last complete one: where runs that
   * were stopped (killed, crashed) may have left temporary files.
   */
  async interruptedStorageFolders(taskId: string): Promise<string[]> {
    const versions = await this.ledger.runReads.listVersionStates(taskId);
    const lastComplete = versions.find((v) => v.status === 'complete')?.seq ?? 0;
    return versions
      .filter((v) => v.status === 'partial' && v.seq > lastComplete)
      .map((v) => v.storageFolder);
  }

  /** A run that did not finish: its version is partial (or gone when it stored nothing). */
  async abandonVersion(id: string, storedAnything: boolean): Promise<void> {
    if (storedAnything) await this.ledger.setVersionStatus(id, 'partial');
    else await this.ledger.deleteVersion(id);
  }

  listVersions(taskId: string): Promise<VersionEntity[]> {
    return this.ledger.listVersions(taskId);
  }

  async getVersion(id: string): Promise<VersionEntity> {
    const v = await this.ledger.findVersion(id);
    if (!v) throw NotFoundAppError.of('version', id);
    return v;
  }

  async listFiles(
    id: string,
    opts: { afterId?: number; limit: number; prefix?: string },
  ): Promise<VersionFilesPage> {
    const v = await this.getVersion(id);
    return this.ledger.listVersionFiles(v.taskId, v.seq, opts);
  }

  /**
   * One folder of a version: its sub-folders and files, in name order, found by skipping from
   * child to child through the path index (one query per child, however deep the tree is).
   */
  async listFolder(id: string, folder: string, limit = 1000): Promise<VersionFolderListing> {
    const v = await this.getVersion(id);
    const out: VersionFolderListing = { folders: [], files: [], truncated: false };
    const base = folder === '' ? '' : `${folder}/`;
    let bound: { gt: string } | { gte: string } = { gt: base };
    while (out.folders.length + out.files.length < limit) {
      const next = await this.ledger.nextPathAfter(v.taskId, v.seq, folder, bound);
      if (!next) return out;
      const rest = next.path.slice(base.length);
      const slash = rest.indexOf('/');
      if (slash < 0) {
        out.files.push(next);
        bound = { gt: next.path };
      } else {
        const name = rest.slice(0, slash);
        out.folders.push(name);
        bound = { gte: `${base}${name}0` }; // '/' + 1: the first path past that sub-folder
      }
    }
    // Full page: truncated only if something really follows.
    out.truncated = (await this.ledger.nextPathAfter(v.taskId, v.seq, folder, bound)) !== null;
    return out;
  }

  /** What changed from version `fromId` to version `toId`: added, changed and deleted paths. */
  async diff(fromId: string, toId: string): Promise<VersionDiff> {
    const from = await this.getVersion(fromId);
    const to = await this.getVersion(toId);
    if (from.taskId !== to.taskId)
      throw new ValidationAppError(['the two versions belong to different tasks']);
    const [a, b, reversed] =
      from.seq <= to.seq ? [from.seq, to.seq, false] : [to.seq, from.seq, true];
    const { inB, goneFromA } = await this.ledger.diffRecords(from.taskId, a, b);
    const newer = new Set(inB.map((f) => f.path));
    const older = new Set(goneFromA.map((f) => f.path));
    const added = [...newer].filter((p) => !older.has(p)).sort();
    const deleted = [...older].filter((p) => !newer.has(p)).sort();
    const changed = [...newer].filter((p) => older.has(p)).sort();
    return reversed ? { added: deleted, deleted: added, changed } : { added, deleted, changed };
  }

  async findFile(id: string, path: string): Promise<VersionFileEntity | null> {
    const v = await this.getVersion(id);
    return this.ledger.findVersionFile(v.taskId, v.seq, path);
  }

  /**
   * Applies a retention policy: drops the versions it does not keep, then deletes only the
   * stored bytes no kept version points at (a record is needed while a kept version lies in its
   * range). Version rows go first, so a crash half-way leaves orphan bytes the next prune
   * removes, never a kept version with missing bytes.
   */
  async prune(
    task: VersionedTask,
    target: Connector,
    policy: RetentionPolicy,
    hooks: {
      onVersionDeleted(v: VersionEntity): void;
      onBytesFreed(path: string, size: number): void;
      signal?: AbortSignal;
    },
  ): Promise<{ deletedVersions: number; filesRemoved: number; bytesFreed: number }> {
    const { doomed, covered } = await this.planPrune(task.id, policy);
    for (const v of doomed) {
      await this.ledger.deleteVersionRow(v.id);
      hooks.onVersionDeleted(v);
    }
    let filesRemoved = 0;
    let bytesFreed = 0;
    for (let afterId = 0; ;) {
      hooks.signal?.throwIfAborted();
      const page = await this.ledger.listClosedRecords(task.id, afterId, 500);
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      const free = page.filter((r) => !covered(r.firstSeq, r.lastSeq!));
      for (const r of free) {
        await target.remove(r.storedPath, { signal: hooks.signal }).catch((e: unknown) => {
          if (!(e instanceof NotFoundError)) throw e;
        });
        hooks.onBytesFreed(r.storedPath, r.size);
        filesRemoved++;
        bytesFreed += r.size;
      }
      await this.ledger.deleteRecords(free.map((r) => r.id));
    }
    for (const v of doomed) {
      if (v.manifestPath) await target.remove(v.manifestPath).catch(() => undefined);
      if (!(await this.ledger.hasStoredUnder(task.id, v.storageFolder))) {
        await target.remove(v.storageFolder).catch(() => undefined);
      }
    }
    return { deletedVersions: doomed.length, filesRemoved, bytesFreed };
  }

  /**
   * What `prune` would do with `policy`, doing nothing: the versions it would delete, and the
   * stored files and bytes no kept version would point at any more.
   */
  async previewPrune(
    taskId: string,
    policy: RetentionPolicy,
    opts: { approving?: string } = {},
  ): Promise<{ versions: VersionEntity[]; files: number; bytes: number }> {
    const { doomed, covered } = await this.planPrune(taskId, policy, opts.approving);
    let files = 0;
    let bytes = 0;
    for (let afterId = 0; ;) {
      const page = await this.ledger.listClosedRecords(taskId, afterId, 500);
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      for (const r of page) {
        if (covered(r.firstSeq, r.lastSeq!)) continue;
        files++;
        bytes += r.size;
      }
    }
    return { versions: doomed, files, bytes };
  }

  /** The versions a policy drops, and a test of whether a record range is still needed. */
  private async planPrune(
    taskId: string,
    policy: RetentionPolicy,
    /** A held version's id: plan as if it were approved (what approving it would prune). */
    approving?: string,
  ): Promise<{ doomed: VersionEntity[]; covered: (first: number, last: number) => boolean }> {
    const versions = (await this.ledger.listVersions(taskId)).map((v) =>
      v.id === approving && v.status === 'held' ? { ...v, status: 'complete' as const } : v,
    );
    const keep = selectVersionsToKeep(versions, policy);
    const doomed = versions.filter((v) => !keep.has(v.seq));
    const kept = [...keep].sort((a, b) => a - b);
    const covered = (first: number, last: number) => {
      // The smallest kept seq >= first, by binary search; covered when it is <= last.
      let lo = 0;
      let hi = kept.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (kept[mid]! < first) lo = mid + 1;
        else hi = mid;
      }
      return lo < kept.length && kept[lo]! <= last;
    };
    return { doomed, covered };
  }

  /**
   * Rebuilds a task's ledger from its manifests, oldest first: consecutive versions holding the
   * same stored copy of a path share one record, exactly as the engine writes them. Holds one
   * entry per path of the newest version in memory while it works. One transaction: a manifest
   * that fails half-way (a bad line, a broken read) leaves no version and no record behind.
   */
  async rebuildFromManifests(
    taskId: string,
    manifests: AsyncIterable<{
      header: ManifestHeader;
      manifestPath: string;
      lines: AsyncIterable<ManifestLine>;
    }>,
  ): Promise<{ versions: number; records: number }> {
    return this.ledger.transaction((em) => this.rebuildIn(em, taskId, manifests));
  }

  private async rebuildIn(
    em: EntityManager,
    taskId: string,
    manifests: AsyncIterable<{
      header: ManifestHeader;
      manifestPath: string;
      lines: AsyncIterable<ManifestLine>;
    }>,
  ): Promise<{ versions: number; records: number }> {
    const open = new Map<string, ManifestLine>();
    let pending: Array<Omit<VersionFileEntity, 'id'>> = [];
    let records = 0;
    let versions = 0;
    let prevSeq = 0;
    const toRecord = (l: ManifestLine, lastSeq: number | null): Omit<VersionFileEntity, 'id'> => ({
      taskId,
      path: l.path,
      size: l.size,
      sha256: l.sha256,
      sourceHashes: l.sourceHashes,
      sourceId: l.sourceId,
      modifiedAt: l.modifiedAt ? new Date(l.modifiedAt) : null,
      storedPath: l.storedPath,
      firstSeq: l.firstSeq,
      lastSeq,
    });
    const flush = async (force: boolean) => {
      if (pending.length === 0 || (!force && pending.length < 500)) return;
      records += pending.length;
      await this.ledger.insertRecords(pending, em);
      pending = [];
    };
    for await (const m of manifests) {
      const seq = m.header.seq;
      if (seq <= prevSeq)
        throw new ValidationAppError([`manifest of version ${seq} is out of order or repeated`]);
      const seen = new Set<string>();
      let fileCount = 0;
      let totalBytes = 0;
      for await (const line of m.lines) {
        seen.add(line.path);
        fileCount++;
        totalBytes += line.size;
        const cur = open.get(line.path);
        if (cur && cur.storedPath === line.storedPath && cur.sha256 === line.sha256) continue;
        if (cur) pending.push(toRecord(cur, prevSeq));
        open.set(line.path, line);
        await flush(false);
      }
      for (const [path, cur] of open) {
        if (seen.has(path)) continue;
        pending.push(toRecord(cur, prevSeq));
        open.delete(path);
      }
      await flush(false);
      await this.ledger.insertCompleteVersion(
        {
          id: randomUUID(),
          taskId,
          runId: m.header.versionId,
          seq,
          status: 'complete',
          storageFolder: m.header.storageFolder,
          manifestPath: m.manifestPath,
          fileCount,
          totalBytes,
          createdAt: new Date(m.header.createdAt),
          completedAt: new Date(m.header.createdAt),
          statusReason: null,
          skippedCount: 0,
          verifiedAt: null,
        },
        em,
      );
      versions++;
      prevSeq = seq;
    }
    for (const cur of open.values()) pending.push(toRecord(cur, null));
    await flush(true);
    return { versions, records };
  }

  /** The stored-file records a verify run checks: one version's, or every one of the task. */
  listRecordsForVerify(
    taskId: string,
    seq: number | undefined,
    afterId: number,
    limit: number,
  ): Promise<VersionFileEntity[]> {
    return this.ledger.listRecordsForVerify(taskId, seq, afterId, limit);
  }

  /** Marks the versions holding damaged copies 'damaged'; returns their seqs. */
  markDamaged(
    taskId: string,
    records: Array<Pick<VersionFileEntity, 'id' | 'firstSeq' | 'lastSeq'>>,
    reason: string,
  ): Promise<number[]> {
    return this.ledger.markRecordsDamaged(taskId, records, reason);
  }

  markVerified(ids: string[], at: Date): Promise<void> {
    return this.ledger.markVerified(ids, at);
  }

  markInterruptedVersions(): Promise<number> {
    return this.ledger.markRunningAsPartial();
  }

  /** Before a run executes again (cluster retry): what its dead attempt stored stays, as partial. */
  markRunVersionsPartial(runId: string): Promise<number> {
    return this.ledger.markRunVersionsPartial(runId);
  }

  /** The rows of version `seq`'s manifest, MANIFEST_PAGE records at a time in path order. */
  private async *pages(taskId: string, seq: number): AsyncGenerator<ManifestRowPage> {
    let afterPath: string | undefined;
    for (;;) {
      const rows = await this.ledger.runReads.listManifestRows(
        taskId,
        seq,
        afterPath,
        MANIFEST_PAGE,
      );
      if (rows.length > 0) yield { rows };
      if (rows.length < MANIFEST_PAGE) return;
      afterPath = rows[rows.length - 1]!.path;
    }
  }
}
