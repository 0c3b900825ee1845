import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { NotFoundAppError } from '../common/errors/app-errors.js';
import type { Connector } from '../connectors/connector.js';
import { joinPath } from '../connectors/path.js';
import type { VersionFileEntity } from './entities/version-file.entity.js';
import type { VersionEntity } from './entities/version.entity.js';
import { MANIFEST_FORMAT, manifestSize, manifestStream } from './manifest.js';
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
 */
export type GoneFiles = { isSeen: (path: string) => boolean } | { deletedPaths: string[] };

/** Folder under the task's target folder that holds the manifests. */
export const MANIFEST_FOLDER = '.cbe-manifests';

/** 'v000012_2026-11-22_031500': sorts by number, readable, legal on every provider. */
export function storageFolderName(seq: number, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '');
  return `v${String(seq).padStart(6, '0')}_${stamp}`;
}

export class VersionsService {
  constructor(private readonly ledger: VersionLedgerRepository) {}

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

  findCurrentFiles(taskId: string, paths: string[]): Promise<Map<string, VersionFileEntity>> {
    return this.ledger.findLiveByPaths(taskId, paths);
  }

  recordStoredFiles(taskId: string, seq: number, files: StoredFile[]): Promise<void> {
    return this.ledger.recordStoredFiles(taskId, seq, files);
  }

  /**
   * Commits a version: closes the records of paths the run did not see, writes the manifest to the
   * target, and only then marks the version complete (with `alsoInTransaction`, the run's own
   * completion, in the same transaction).
   */
  async commitVersion(
    task: VersionedTask & { sourceAccountKind?: string },
    version: Pick<VersionEntity, 'id' | 'seq' | 'storageFolder'>,
    target: Connector,
    gone: GoneFiles,
    alsoInTransaction: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    if ('isSeen' in gone) await this.ledger.closeUnseen(task.id, version.seq, gone.isSeen);
    else await this.ledger.closePaths(task.id, version.seq, gone.deletedPaths);
    const totals = await this.ledger.summarize(task.id, version.seq);
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
    const size = await manifestSize(header, this.pages(task.id, version.seq));
    await target.write(manifestPath, manifestStream(header, this.pages(task.id, version.seq)), {
      size,
    });
    await this.ledger.completeVersion(
      version.id,
      { ...totals, manifestPath, completedAt: new Date() },
      alsoInTransaction,
    );
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

  markInterruptedVersions(): Promise<number> {
    return this.ledger.markRunningAsPartial();
  }

  private async *pages(taskId: string, seq: number): AsyncGenerator<VersionFileEntity[]> {
    let afterId: number | undefined;
    do {
      const page = await this.ledger.listVersionFiles(taskId, seq, { afterId, limit: 1000 });
      yield page.files;
      afterId = page.nextAfterId;
    } while (afterId !== undefined);
  }
}
