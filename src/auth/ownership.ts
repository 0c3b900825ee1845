import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { RunsRepository } from '../tasks/runs.repository.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { Principal } from './auth.service.js';

/**
 * Each user sees only their own accounts and tasks, and through the tasks their runs and
 * versions. Another user's object answers exactly like one that does not exist (404, or the
 * 400 "does not name an account" of a form), so ids cannot be probed.
 */
export class Ownership {
  constructor(
    private readonly accounts: Pick<AccountsService, 'ownerOf'>,
    private readonly tasks: TasksRepository,
    private readonly runs: RunsRepository,
    private readonly versions: Pick<VersionsService, 'getVersion'>,
  ) {}

  async account(p: Principal, id: string): Promise<void> {
    if ((await this.accounts.ownerOf(id)) !== p.user.id) throw NotFoundAppError.of('account', id);
  }

  async task(p: Principal, id: string): Promise<void> {
    const task = await this.tasks.findById(id);
    if (!task || task.ownerId !== p.user.id) throw NotFoundAppError.of('task', id);
  }

  async run(p: Principal, id: string): Promise<void> {
    const run = await this.runs.findById(id);
    const task = run ? await this.tasks.findById(run.taskId) : null;
    if (!task || task.ownerId !== p.user.id) throw NotFoundAppError.of('run', id);
  }

  async version(p: Principal, id: string): Promise<void> {
    let taskId: string;
    try {
      taskId = (await this.versions.getVersion(id)).taskId;
    } catch (e) {
      if (e instanceof NotFoundAppError) throw NotFoundAppError.of('version', id);
      throw e;
    }
    const task = await this.tasks.findById(taskId);
    if (!task || task.ownerId !== p.user.id) throw NotFoundAppError.of('version', id);
  }

  /** Account ids a form names (task source and target, restore destination) must be the user's. */
  async usableAccounts(p: Principal, fields: Record<string, string | undefined>): Promise<void> {
    const problems: string[] = [];
    for (const [field, id] of Object.entries(fields)) {
      if (id === undefined) continue;
      const owner = await this.accounts.ownerOf(id);
      // Unknown ids are left to the service, whose message is the same.
      if (owner !== undefined && owner !== p.user.id) {
        problems.push(`${field} '${id}' does not name an account`);
      }
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
  }

  async taskIds(p: Principal): Promise<string[]> {
    return (await this.tasks.listOwned(p.user.id)).map((t) => t.id);
  }
}
