import type { Clock } from '../../common/clock.js';
import type { BackupConfig } from '../../config/app-config.js';
import type { Connector, Entry } from '../../connectors/connector.js';
import {
  FatalError,
  IntegrityError,
  InvalidPathError,
  NotFoundError,
} from '../../connectors/connector.errors.js';
import { createDigest } from '../../connectors/hashing/digests.js';
import { commonHashKinds, firstHashMismatch } from '../../connectors/hashing/hash-kinds.js';
import { baseName, joinPath, normalizePath, parentPath } from '../../connectors/path.js';
import type { VersionFileEntity } from '../../versions/entities/version-file.entity.js';
import type { VersionsService } from '../../versions/versions.service.js';
import type { ConflictPolicy, RestoreParams, RunEntity } from '../../tasks/entities/run.entity.js';
import type { TasksRepository } from '../../tasks/tasks.repository.js';
import { runPool } from '../../backup/transfer/pool.js';
import { transferFile } from '../../backup/transfer/transfer-file.js';
import { withFileRetries } from '../../backup/transfer/with-retries.js';
import type { ConnectorProvider } from '../connector-provider.js';
import type { RunExecutor } from '../run-executor.js';
import { FilesFailedError } from '../run-outcome.js';
import type { RunRecorder } from '../run-recorder.js';

type Versions = Pick<VersionsService, 'getVersion' | 'findFile' | 'listFiles'>;

/**
 * Restores a version (all of it, folders or single files) to its original account and folder or
 * anywhere else: the stored bytes stream from the backup target through the same core as a
 * backup, each file verified against the ledger's SHA-256. Nothing is written outside the
 * destination folder: a path that would escape it is refused.
 */
export class RestoreExecutor implements RunExecutor {
  readonly kind = 'restore' as const;

  constructor(
    private readonly tasks: Pick<TasksRepository, 'findById'>,
    private readonly versions: Versions,
    private readonly connectors: ConnectorProvider,
    private readonly clock: Clock,
    private readonly config: Pick<BackupConfig, 'fileAttempts'>,
  ) {}

  async execute(run: RunEntity, rec: RunRecorder, signal: AbortSignal): Promise<void> {
    const params = run.params as RestoreParams | null;
    const { counters } = rec;
    let source: Connector | undefined;
    let dest: Connector | undefined;
    try {
      if (!params) throw new FatalError('the restore run has no parameters');
      const task = await this.tasks.findById(run.taskId);
      if (!task) throw new FatalError(`task ${run.taskId} was deleted`);
      const version = await this.versions.getVersion(params.versionId);
      if (version.status !== 'complete') {
        rec.warn(
          `version ${version.seq} is ${version.status}: files it never stored cannot be restored`,
        );
      }
      const onRetry = (e: { label: string; error: unknown; delayMs: number }) =>
        rec.retry(e.label, e.error, e.delayMs);
      source = await this.connectors.open(task.targetAccountId, { onRetry });
      dest = await this.connectors.open(params.destination.accountId, { onRetry });
      if (!dest.capabilities.writable) {
        throw new FatalError(
          dest.capabilities.readOnlyReason ??
            `the destination account (${dest.kind}) cannot be written to; restore to another account or folder instead`,
        );
      }
      const destRoot = normalizePath(params.destination.path);
      const src = source;
      const dst = dest;
      // Restoring into a folder that does not exist yet (the usual "restore to a new folder"):
      // nothing can be in the way, so the stat of each file's destination (one request or more
      // per file on a cloud: a restore of 10,000 small files to Drive spent most of its time
      // there) is left out. A resumed run finds the folder and checks every file again.
      const destMayHoldFiles =
        destRoot === '' ||
        (await dst.stat(destRoot, { signal }).then(
          () => true,
          (e: unknown) => {
            if (e instanceof NotFoundError) return false;
            throw e;
          },
        ));
      await rec.phase('transferring');
      const files = this.selectFiles(params, (f) => {
        counters.filesTotal++;
        counters.bytesTotal += f.size;
      });
      await runPool(files, Math.max(1, task.concurrency), async (f) => {
        if (signal.aborted) return;
        await rec.checkpoint(signal);
        // Shown in flight with its own bytes on the run page while it is restored.
        rec.fileStarted(f.path, f.size);
        try {
          const outcome = await this.restoreOne(
            src,
            dst,
            destRoot,
            destMayHoldFiles,
            f,
            params.conflict,
            signal,
            {
              onBytes: (n) => rec.addBytes(n, f.path),
              // Bytes inside a large file reach the run's row (the recorder writes once a second).
              onProgress: () => void rec.progress()?.catch(() => undefined),
            },
            (attempt, e, delayMs) =>
              rec.retry(`restore ${f.path} (attempt ${attempt})`, e, delayMs),
          );
          if (outcome === 'skipped') {
            counters.filesUnchanged++;
            counters.bytesUnchanged += f.size;
          } else counters.filesCopied++;
        } catch (e) {
          // Only the run's own cancel is "nothing to record"; an AbortError it did not cause
          // (a library's timeout) is this file's failure, never a silent gap in the restore.
          if (signal.aborted) return;
          rec.fileFailed(f.path, e);
        } finally {
          rec.fileEnded(f.path);
        }
        await rec.progress();
      });
      await rec.progress(true);
      if (signal.aborted) throw new Error('cancelled by the user');
      if (counters.filesFailed > 0)
        throw new FilesFailedError(`${counters.filesFailed} file(s) could not be restored`);
    } finally {
      await source?.close?.().catch(() => undefined);
      await dest?.close?.().catch(() => undefined);
    }
  }

  /** The version's files under the chosen paths (each a file or a folder), page by page. */
  private async *selectFiles(
    params: RestoreParams,
    onFile: (f: VersionFileEntity) => void,
  ): AsyncGenerator<VersionFileEntity> {
    const roots = params.paths.length === 0 ? [''] : params.paths.map((p) => normalizePath(p));
    for (const root of roots) {
      if (root !== '') {
        const exact = await this.versions.findFile(params.versionId, root);
        if (exact) {
          onFile(exact);
          yield exact;
          continue;
        }
      }
      let afterId: number | undefined;
      let any = false;
      do {
        const page = await this.versions.listFiles(params.versionId, {
          prefix: root || undefined,
          afterId,
          limit: 500,
        });
        for (const f of page.files) {
          any = true;
          onFile(f);
          yield f;
        }
        afterId = page.nextAfterId;
      } while (afterId !== undefined);
      if (!any && root !== '')
        throw new NotFoundError(`'${root}' is neither a file nor a folder of this version`);
    }
  }

  private async restoreOne(
    source: Connector,
    dest: Connector,
    destRoot: string,
    destMayHoldFiles: boolean,
    f: VersionFileEntity,
    conflict: ConflictPolicy,
    signal: AbortSignal,
    report: { onBytes: (n: number) => void; onProgress: () => void },
    onRetry: (attempt: number, e: unknown, delayMs: number) => void,
  ): Promise<'restored' | 'skipped'> {
    const { onBytes, onProgress } = report;
    let targetPath: string;
    try {
      // Manifests and providers are not trusted: '..', absolute paths and NUL are refused here.
      targetPath = normalizePath(`${destRoot}/${normalizePath(f.path)}`);
    } catch (e) {
      throw new InvalidPathError(
        `refused '${f.path}': ${(e as Error).message}; nothing was written for it`,
      );
    }
    const existing = !destMayHoldFiles
      ? undefined
      : await dest.stat(targetPath, { signal }).catch((e: unknown) => {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        });
    if (existing?.kind === 'folder')
      throw new FatalError(
        `'${targetPath}' is a folder at the destination; the file was not restored`,
      );
    if (existing) {
      if (conflict !== 'overwrite' && (await this.isIdentical(dest, existing, f, signal)))
        return 'skipped';
      if (conflict === 'keep-both') targetPath = await this.freeName(dest, targetPath, signal);
    }
    let sent = 0;
    await withFileRetries(
      async () => {
        sent = 0;
        const res = await transferFile({
          source,
          sourcePath: f.storedPath,
          target: dest,
          targetPath,
          expectedSize: f.size,
          modifiedAt: f.modifiedAt ?? undefined,
          signal,
          onBytes: (n) => {
            sent += n;
            onBytes(n);
          },
          onProgress,
        }).catch((e: unknown) => {
          onBytes(-sent);
          throw e;
        });
        if (res.sha256 !== f.sha256) {
          await dest.remove(targetPath).catch(() => undefined);
          throw new IntegrityError(
            `'${f.path}': the stored copy does not match the ledger's SHA-256; it was not restored`,
          );
        }
      },
      { attempts: this.config.fileAttempts, clock: this.clock, signal, onRetry },
    );
    return 'restored';
  }

  /** Same content: by a hash both sides know, else by reading the destination file once. */
  private async isIdentical(
    dest: Connector,
    existing: Entry,
    f: VersionFileEntity,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (existing.size !== undefined && existing.size !== f.size) return false;
    if (existing.hashes.sha256) return existing.hashes.sha256.toLowerCase() === f.sha256;
    if (commonHashKinds(existing.hashes, f.sourceHashes).length > 0) {
      return firstHashMismatch(existing.hashes, f.sourceHashes) === undefined;
    }
    const digest = createDigest('sha256');
    for await (const chunk of await dest.read(existing.path, { signal }))
      digest.update(chunk as Buffer);
    return digest.digest() === f.sha256;
  }

  /** 'IMG_1.jpg' -> 'IMG_1 (restored 2026-11-22).jpg', then '... 2)' and so on. */
  private async freeName(dest: Connector, path: string, signal: AbortSignal): Promise<string> {
    const name = baseName(path);
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    const day = this.clock.now().toISOString().slice(0, 10);
    for (let n = 1; n < 1000; n++) {
      const candidate = joinPath(
        parentPath(path),
        `${stem} (restored ${day}${n > 1 ? ` ${n}` : ''})${ext}`,
      );
      const taken = await dest.stat(candidate, { signal }).then(
        () => true,
        (e: unknown) => {
          if (e instanceof NotFoundError) return false;
          throw e;
        },
      );
      if (!taken) return candidate;
    }
    throw new FatalError(`no free name next to '${path}'`);
  }
}
