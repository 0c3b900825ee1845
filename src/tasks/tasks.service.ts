import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import { InvalidPathError } from '../connectors/connector.errors.js';
import { normalizePath, relativeTo } from '../connectors/path.js';
import { parseSchedule, type ScheduleInput } from '../scheduler/schedule.js';
import { effectiveDeletionGuard, type DeletionGuardSettings } from '../versions/deletion-guard.js';
import type { FilterMode, NotifyOn, TaskEntity } from './entities/task.entity.js';
import { parseExtensions } from '../backup/plan/extension-filter.js';
import type { RunsRepository } from './runs.repository.js';
import type { TasksRepository } from './tasks.repository.js';

export interface TaskInput {
  name: string;
  sourceAccountId: string;
  sourcePath?: string;
  targetAccountId: string;
  targetPath?: string;
  filter?: { mode: FilterMode; extensions?: string[] | string };
  concurrency?: number;
  enabled?: boolean;
  /** The same switch as `enabled`, inverted: a paused task gets no scheduled runs. */
  paused?: boolean;
  schedule?: ScheduleInput;
  catchUp?: boolean;
  notifications?: { emails?: string[]; on?: NotifyOn; webhookUrl?: string | null };
  /** Partial: unnamed fields keep their value; null puts the defaults back (the guard stays on). */
  deletionGuard?: Partial<DeletionGuardSettings> | null;
  /** Verify runs of the task: the read-back percent and when they start on their own. */
  verify?: { readPercent?: number; schedule?: ScheduleInput | null; readBackAfterWrite?: boolean };
}

/** A task as notifications see it. */
export type TaskNotificationSettings = Pick<
  TaskEntity,
  'id' | 'name' | 'ownerId' | 'notifyEmails' | 'notifyOn' | 'webhookUrl'
>;

function notificationSettingsOf(t: TaskEntity): TaskNotificationSettings {
  const { id, name, ownerId, notifyEmails, notifyOn, webhookUrl } = t;
  return { id, name, ownerId, notifyEmails, notifyOn, webhookUrl };
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

export interface AccountLookup {
  exists(id: string): Promise<boolean>;
}

/** Announced (and awaited) after a task is created, changed or deleted; the scheduler re-arms. */
export const TASK_CHANGED = 'backup.task.changed';

export interface TaskChangedEvent {
  taskId: string;
  /** Undefined once the task is deleted. */
  task: TaskEntity | undefined;
}

export class TasksService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly runs: RunsRepository,
    private readonly accounts: AccountLookup,
    private readonly clock: Clock,
    private readonly defaultConcurrency: number,
    /** Where TASK_CHANGED goes (the scheduler listens); optional for tests and tools. */
    private readonly events?: { emitAsync(event: string, payload: unknown): Promise<unknown> },
  ) {}

  /** `ownerId`: the user the task belongs to (null only for tools working without users). */
  async create(input: TaskInput, ownerId: string | null = null): Promise<TaskEntity> {
    const now = this.clock.now();
    const task = await this.apply(
      {
        id: randomUUID(),
        name: '',
        ownerId,
        sourceAccountId: '',
        sourcePath: '',
        targetAccountId: '',
        targetPath: '',
        filterMode: 'all',
        filterExtensions: [],
        concurrency: this.defaultConcurrency,
        enabled: true,
        changeCursor: null,
        schedule: { kind: 'none' },
        catchUp: false,
        scheduleCheckpoint: now,
        notifyEmails: [],
        notifyOn: 'failure',
        webhookUrl: null,
        retention: null,
        deletionGuard: null,
        verifyReadPercent: 0,
        readBackAfterWrite: false,
        verifySchedule: null,
        verifyCheckpoint: now,
        createdAt: now,
        updatedAt: now,
      },
      input,
    );
    return this.changed(await this.tasks.save(task));
  }

  async update(id: string, input: Partial<TaskInput>): Promise<TaskEntity> {
    const task = await this.get(id);
    const updated = await this.apply(task, input);
    updated.updatedAt = this.clock.now();
    return this.changed(await this.tasks.save(updated));
  }

  async get(id: string): Promise<TaskEntity> {
    const task = await this.tasks.findById(id);
    if (!task) throw NotFoundAppError.of('task', id);
    return task;
  }

  /** Every task, or only one user's (the API always asks for one user's). */
  list(ownerId?: string): Promise<TaskEntity[]> {
    return ownerId === undefined ? this.tasks.listAll() : this.tasks.listOwned(ownerId);
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    await this.runs.deleteForTask(id);
    await this.tasks.delete(id);
    await this.events?.emitAsync(TASK_CHANGED, { taskId: id, task: undefined });
  }

  private async changed(task: TaskEntity): Promise<TaskEntity> {
    await this.events?.emitAsync(TASK_CHANGED, {
      taskId: task.id,
      task,
    } satisfies TaskChangedEvent);
    return task;
  }

  /** What notifications need of a task (who is told, when): they read no repository. */
  async notificationSettings(taskId: string): Promise<TaskNotificationSettings | null> {
    const task = await this.tasks.findById(taskId);
    return task ? notificationSettingsOf(task) : null;
  }

  /** The notification settings of every task that uses the account (a re-sign-in mail). */
  async notificationSettingsUsingAccount(accountId: string): Promise<TaskNotificationSettings[]> {
    return (await this.tasks.listUsingAccount(accountId)).map(notificationSettingsOf);
  }

  async tasksUsingAccount(accountId: string): Promise<string[]> {
    return (await this.tasks.listUsingAccount(accountId)).map((t) => t.name);
  }

  private async apply(task: TaskEntity, input: Partial<TaskInput>): Promise<TaskEntity> {
    const problems: string[] = [];
    const next = { ...task };
    if (input.name !== undefined) next.name = input.name.trim();
    for (const key of ['sourceAccountId', 'targetAccountId'] as const) {
      const id = input[key];
      if (id === undefined) continue;
      if (!(await this.accounts.exists(id)))
        problems.push(`${key} '${id}' does not name an account`);
      else next[key] = id;
    }
    for (const key of ['sourcePath', 'targetPath'] as const) {
      const raw = input[key];
      if (raw === undefined) continue;
      try {
        next[key] = normalizePath(raw);
      } catch (e) {
        if (e instanceof InvalidPathError) problems.push(`${key}: ${e.message}`);
        else throw e;
      }
    }
    if (input.filter !== undefined) {
      const { extensions, problems: bad } = parseExtensions(input.filter.extensions ?? []);
      problems.push(...bad.map((p) => `filter.extensions: ${p}`));
      if (input.filter.mode !== 'all' && extensions.length === 0 && bad.length === 0) {
        problems.push(
          `filter.extensions must list at least one extension when filter.mode is '${input.filter.mode}'`,
        );
      }
      next.filterMode = input.filter.mode;
      next.filterExtensions = input.filter.mode === 'all' ? [] : extensions;
    }
    if (input.concurrency !== undefined) next.concurrency = input.concurrency;
    if (input.enabled !== undefined) next.enabled = input.enabled;
    if (input.paused !== undefined) next.enabled = !input.paused;
    if (input.schedule !== undefined) {
      const { schedule, problems: bad } = parseSchedule(input.schedule);
      problems.push(...bad);
      if (schedule) next.schedule = schedule;
    }
    if (input.catchUp !== undefined) next.catchUp = input.catchUp;
    if (input.notifications !== undefined)
      this.applyNotifications(next, input.notifications, problems);
    if (input.deletionGuard !== undefined)
      next.deletionGuard = applyDeletionGuard(task.deletionGuard, input.deletionGuard, problems);
    if (input.verify !== undefined) applyVerify(next, input.verify, problems);
    if (problems.length === 0 && next.sourceAccountId === next.targetAccountId) {
      // Backing a folder up into itself grows without end; into its parent would copy the copies.
      if (relativeTo(next.sourcePath, next.targetPath) !== undefined) {
        problems.push(
          `targetPath '${next.targetPath}' lies inside sourcePath '${next.sourcePath}' on the same account`,
        );
      } else if (relativeTo(next.targetPath, next.sourcePath) !== undefined) {
        problems.push(
          `sourcePath '${next.sourcePath}' lies inside targetPath '${next.targetPath}' on the same account`,
        );
      }
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
    const sourceChanged =
      next.sourceAccountId !== task.sourceAccountId ||
      next.sourcePath !== task.sourcePath ||
      next.filterMode !== task.filterMode ||
      next.filterExtensions.join(',') !== task.filterExtensions.join(',');
    // A cursor only describes changes relative to what the last version saw: start over.
    if (sourceChanged) next.changeCursor = null;
    // A new schedule, or a task taken out of pause, starts counting slots from now: slots before
    // that were never due, so catch-up must not run them.
    if (
      JSON.stringify(next.schedule) !== JSON.stringify(task.schedule) ||
      (next.enabled && !task.enabled)
    ) {
      next.scheduleCheckpoint = this.clock.now();
    }
    // The same for verify slots: a new verify schedule counts from now.
    if (JSON.stringify(next.verifySchedule) !== JSON.stringify(task.verifySchedule))
      next.verifyCheckpoint = this.clock.now();
    return next;
  }

  private applyNotifications(
    next: TaskEntity,
    input: NonNullable<TaskInput['notifications']>,
    problems: string[],
  ): void {
    if (input.emails !== undefined) {
      const emails = input.emails.map((e) => e.trim()).filter((e) => e !== '');
      const bad = emails.filter((e) => !EMAIL.test(e));
      if (bad.length > 0) {
        problems.push(
          `notifications.emails: ${bad.map((b) => `'${b}'`).join(', ')} is not an e-mail address`,
        );
      } else next.notifyEmails = [...new Set(emails)];
    }
    if (input.on !== undefined) next.notifyOn = input.on;
    if (input.webhookUrl !== undefined) {
      const url = input.webhookUrl?.trim() || null;
      if (url !== null && !/^https?:\/\/[^\s]+$/i.test(url)) {
        problems.push(`notifications.webhookUrl: '${url}' is not an http(s) URL`);
      } else next.webhookUrl = url;
    }
  }
}

/**
 * The guard's fields, checked one by one (the API's DTO checks shapes too; tools call this
 * service directly). Stored as the full effective settings, so a later change of the defaults
 * does not loosen a task its owner configured.
 */
function applyDeletionGuard(
  stored: Partial<DeletionGuardSettings> | null,
  input: Partial<DeletionGuardSettings> | null,
  problems: string[],
): Partial<DeletionGuardSettings> | null {
  if (input === null) return null;
  const next = { ...effectiveDeletionGuard(stored) };
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean')
      problems.push('deletionGuard.enabled must be true or false');
    else next.enabled = input.enabled;
  }
  if (input.percent !== undefined) {
    if (
      typeof input.percent !== 'number' ||
      !Number.isFinite(input.percent) ||
      input.percent < 0 ||
      input.percent > 100
    )
      problems.push(
        `deletionGuard.percent must be a number from 0 to 100 (got ${JSON.stringify(input.percent)})`,
      );
    else next.percent = input.percent;
  }
  if (input.minFiles !== undefined) {
    if (!Number.isInteger(input.minFiles) || input.minFiles < 0)
      problems.push(
        `deletionGuard.minFiles must be a whole number of 0 or more (got ${JSON.stringify(input.minFiles)})`,
      );
    else next.minFiles = input.minFiles;
  }
  for (const key of ['countChanged', 'holdWhenEmptied'] as const) {
    if (input[key] === undefined) continue;
    if (typeof input[key] !== 'boolean')
      problems.push(`deletionGuard.${key} must be true or false`);
    else next[key] = input[key];
  }
  return next;
}

function applyVerify(
  next: TaskEntity,
  input: NonNullable<TaskInput['verify']>,
  problems: string[],
): void {
  if (input.readPercent !== undefined) {
    const p = input.readPercent;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100)
      problems.push(
        `verify.readPercent must be a whole number from 0 to 100 (got ${JSON.stringify(p)})`,
      );
    else next.verifyReadPercent = p;
  }
  if (input.readBackAfterWrite !== undefined) {
    if (typeof input.readBackAfterWrite !== 'boolean')
      problems.push('verify.readBackAfterWrite must be true or false');
    else next.readBackAfterWrite = input.readBackAfterWrite;
  }
  if (input.schedule !== undefined) {
    if (input.schedule === null) {
      next.verifySchedule = null;
      return;
    }
    const { schedule, problems: bad } = parseSchedule(input.schedule);
    problems.push(...bad.map((b) => `verify.${b}`));
    if (schedule) next.verifySchedule = schedule.kind === 'none' ? null : schedule;
  }
}
