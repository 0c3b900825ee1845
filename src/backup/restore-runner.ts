import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock.js';
import type { BackupConfig } from '../config/app-config.js';
import type { Connector, Entry } from '../connectors/connector.js';
import {
  ConnectorError,
  FatalError,
  IntegrityError,
  InvalidPathError,
  isAbortError,
  NotFoundError,
} from '../connectors/connector.errors.js';
import { createDigest } from '../connectors/hashing/digests.js';
import { commonHashKinds, firstHashMismatch } from '../connectors/hashing/hash-kinds.js';
import { baseName, joinPath, normalizePath, parentPath } from '../connectors/path.js';
import type { VersionFileEntity } from '../versions/entities/version-file.entity.js';
import type { VersionsService } from '../versions/versions.service.js';
import { describeError, type ConnectorProvider } from './backup-runner.js';
import type { RunEventEntity } from './entities/run-error.entity.js';
import type { ConflictPolicy, RestoreParams, RunEntity } from './entities/run.entity.js';
import type { RunEventsSink } from './run-events.js';
import type { RunsRepository } from './runs.repository.js';
import type { TasksRepository } from './tasks.repository.js';
import { runPool } from './transfer/pool.js';
import { transferFile } from './transfer/transfer-file.js';
import { withFileRetries } from './transfer/with-retries.js';

const PROGRESS_FLUSH_MS = 1_000;
const MAX_LOGGED_EVENTS = 5_000;

/**
 * Restores a version (all of it, folders or single files) to its original account and folder or
 * anywhere else: the stored bytes stream from the backup target through the same core as a
 * backup, each file verified against the ledger's SHA-256. Nothing is written outside the
 * destination folder: a path that would escape it is refused.
 */
export class RestoreRunner {
  private readonly logger = new Logger('RestoreRunner');

  constructor(
    private readonly runs: RunsRepository,
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly connectors: ConnectorProvider,
    private readonly events: RunEventsSink,
    private readonly clock: Clock,
    private readonly config: BackupConfig,
  ) {}

  async execute(run: RunEntity, signal: AbortSignal): Promise<void> {
    const params = run.params;
    const counters = {
      filesTotal: 0,
      filesCopied: 0,
      filesUnchanged: 0,
      filesFiltered: 0,
      filesFailed: 0,
      bytesTotal: 0,
      bytesCopied: 0,
      retries: 0,
    };
    const pending: Array<Omit<RunEventEntity, 'id'>> = [];
    let logged = 0;
    const log = (
      level: RunEventEntity['level'],
      path: string | null,
      error: unknown,
      message?: string,
    ) => {
      if (logged++ >= MAX_LOGGED_EVENTS) return;
      pending.push({
        runId: run.id,
        level,
        path,
        code: error instanceof ConnectorError ? error.code : null,
        message: message ?? describeError(error),
        at: this.clock.now(),
      });
    };
    let lastFlush = 0;
    const flush = async (force: boolean) => {
      if (!force && Date.now() - lastFlush < PROGRESS_FLUSH_MS) return;
      lastFlush = Date.now();
      this.events.runProgress({ runId: run.id, taskId: run.taskId, ...counters });
      await this.runs.update(run.id, { ...counters });
      await this.runs.addEvents(pending.splice(0));
    };

    let source: Connector | undefined;
    let dest: Connector | undefined;
    const startedAt = this.clock.now();
    await this.runs.update(run.id, { status: 'running', phase: 'planning', startedAt });
    this.events.runStarted({ ...run, status: 'running', startedAt });
    try {
      if (!params) throw new FatalError('the restore run has no parameters');
      const task = await this.tasks.findById(run.taskId);
      if (!task) throw new FatalError(`task ${run.taskId} was deleted`);
      const version = await this.versions.getVersion(params.versionId);
      if (version.status !== 'complete') {
        log(
          'warning',
          null,
          undefined,
          `version ${version.seq} is ${version.status}: files it never stored cannot be restored`,
        );
      }
      const onRetry = (e: { label: string; error: unknown; delayMs: number }) => {
        counters.retries++;
        log(
          'retry',
          null,
          e.error,
          `${e.label}: ${describeError(e.error)}; retrying in ${e.delayMs} ms`,
        );
      };
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
      await this.runs.update(run.id, { phase: 'transferring' });
      const files = this.selectFiles(params, (f) => {
        counters.filesTotal++;
        counters.bytesTotal += f.size;
      });
      await runPool(files, Math.max(1, task.concurrency), async (f) => {
        if (signal.aborted) return;
        try {
          const outcome = await this.restoreOne(
            src,
            dst,
            destRoot,
            destMayHoldFiles,
            f,
            params.conflict,
            signal,
            (n) => (counters.bytesCopied += n),
            (attempt, e, delayMs) =>
              onRetry({ label: `restore ${f.path} (attempt ${attempt})`, error: e, delayMs }),
          );
          if (outcome === 'skipped') counters.filesUnchanged++;
          else counters.filesCopied++;
        } catch (e) {
          if (signal.aborted || isAbortError(e)) return;
          counters.filesFailed++;
          log('error', f.path, e);
        }
        await flush(false);
      });
      await flush(true);
      if (signal.aborted) throw new Error('cancelled by the user');
      if (counters.filesFailed > 0)
        throw new FatalError(`${counters.filesFailed} file(s) could not be restored`);
      const finishedAt = this.clock.now();
      await this.runs.update(run.id, {
        ...counters,
        status: 'completed',
        phase: 'done',
        finishedAt,
        errorMessage: null,
      });
      this.events.runFinished({
        ...run,
        ...counters,
        status: 'completed',
        phase: 'done',
        finishedAt,
      });
    } catch (e) {
      const cancelled = signal.aborted;
      const message = cancelled ? 'cancelled by the user' : describeError(e);
      if (!cancelled) this.logger.warn(`restore run ${run.id} failed: ${message}`);
      await flush(true).catch(() => undefined);
      const finishedAt = this.clock.now();
      const status = cancelled ? 'cancelled' : 'failed';
      await this.runs.update(run.id, {
        ...counters,
        status,
        phase: 'done',
        finishedAt,
        errorMessage: message,
      });
      this.events.runFinished({
        ...run,
        ...counters,
        status,
        phase: 'done',
        finishedAt,
        errorMessage: message,
      });
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
    onBytes: (n: number) => void,
    onRetry: (attempt: number, e: unknown, delayMs: number) => void,
  ): Promise<'restored' | 'skipped'> {
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
      if (conflict === 'skip-identical' && (await this.isIdentical(dest, existing, f, signal)))
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
