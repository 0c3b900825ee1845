import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import { InvalidPathError } from '../connectors/connector.errors.js';
import { normalizePath } from '../connectors/path.js';
import type { RunStarter } from '../runs/runs.service.js';
import type { ConflictPolicy, RestoreParams, RunEntity } from '../tasks/entities/run.entity.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { AccountLookup } from '../tasks/tasks.service.js';
import type { VersionsService } from '../versions/versions.service.js';

export interface RestoreRequest {
  paths?: string[];
  destination?: { accountId: string; path?: string };
  conflict?: ConflictPolicy;
}

/** Checks a restore request and queues it as a run: one at a time per task, like backups. */
export class RestoreService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly versions: VersionsService,
    private readonly accounts: AccountLookup,
    private readonly runs: RunStarter,
  ) {}

  async startRestore(versionId: string, req: RestoreRequest): Promise<RunEntity> {
    const version = await this.versions.getVersion(versionId);
    const task = await this.tasks.findById(version.taskId);
    if (!task) throw NotFoundAppError.of('task', version.taskId);
    const problems: string[] = [];
    const paths: string[] = [];
    for (const [i, p] of (req.paths ?? []).entries()) {
      try {
        paths.push(normalizePath(p));
      } catch (e) {
        if (e instanceof InvalidPathError) problems.push(`paths[${i}]: ${e.message}`);
        else throw e;
      }
    }
    const destination = {
      accountId: req.destination?.accountId ?? task.sourceAccountId,
      path: req.destination ? (req.destination.path ?? '') : task.sourcePath,
    };
    try {
      destination.path = normalizePath(destination.path);
    } catch (e) {
      if (e instanceof InvalidPathError) problems.push(`destination.path: ${e.message}`);
      else throw e;
    }
    if (!(await this.accounts.exists(destination.accountId))) {
      problems.push(`destination.accountId '${destination.accountId}' does not name an account`);
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
    for (const p of paths) {
      const file = await this.versions.findFile(versionId, p);
      const folder = file
        ? undefined
        : await this.versions.listFiles(versionId, { prefix: p, limit: 1 });
      if (!file && folder?.files.length === 0) {
        throw new ValidationAppError([
          `paths: '${p}' is neither a file nor a folder of version ${version.seq}`,
        ]);
      }
    }
    const params: RestoreParams = {
      versionId,
      paths,
      destination,
      conflict: req.conflict ?? 'skip-identical',
    };
    // A restore waits behind a run of its task instead of being refused.
    return this.runs.start('restore', task.id, { params, versionId, whenBusy: 'queue' });
  }
}
