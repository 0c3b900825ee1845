import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis, jsonText } from '../../persistence/column-transformers.js';
import type { DeletionGuardSettings } from '../../versions/deletion-guard.js';
import type { RetentionPolicy } from '../../versions/retention.js';

export type FilterMode = 'all' | 'include' | 'exclude';
/** When a task's recipients get mail: only failures, only completions, or both. */
export type NotifyOn = 'failure' | 'completion' | 'always';

/** Stored form of the task's schedule (see src/scheduler/schedule.ts); kind 'none' = manual only. */
export interface TaskSchedule {
  kind: 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
  time?: string;
  weekdays?: Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>;
  dayOfMonth?: number;
  cron?: string;
  timezone?: string;
}

export type { RetentionPolicy } from '../../versions/retention.js';

@Entity('tasks')
export class TaskEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { length: 200 })
  name!: string;

  /** The user whose task it is; null only for rows from before sign-in (the first admin adopts them). */
  @Column('varchar', { name: 'owner_id', length: 36, nullable: true })
  ownerId!: string | null;

  @Index()
  @Column('varchar', { name: 'source_account_id', length: 36 })
  sourceAccountId!: string;

  @Column('text', { name: 'source_path' })
  sourcePath!: string;

  @Index()
  @Column('varchar', { name: 'target_account_id', length: 36 })
  targetAccountId!: string;

  @Column('text', { name: 'target_path' })
  targetPath!: string;

  @Column('varchar', { name: 'filter_mode', length: 16 })
  filterMode!: FilterMode;

  /** Lower-case extensions without dots. */
  @Column('text', { name: 'filter_extensions', transformer: jsonText })
  filterExtensions!: string[];

  @Column('integer')
  concurrency!: number;

  @Column('boolean')
  enabled!: boolean;

  /**
   * The source's change-feed cursor taken for the last complete version; the next run reads
   * changes from it instead of listing everything. Cleared when the source or filter changes.
   */
  @Column('text', { name: 'change_cursor', nullable: true })
  changeCursor!: string | null;

  /** Which versions to keep; null keeps every version. */
  @Column('text', { nullable: true, transformer: jsonText })
  retention!: RetentionPolicy | null;

  @Column('text', { transformer: jsonText })
  schedule!: TaskSchedule;

  /** After downtime, run a missed slot once at start-up (trigger 'catch-up'). */
  @Column('boolean', { name: 'catch_up', default: false })
  catchUp!: boolean;

  /** The last slot the scheduler handled (or when the schedule was set): slots after it are due. */
  @Column('bigint', { name: 'schedule_checkpoint', nullable: true, transformer: epochMillis })
  scheduleCheckpoint!: Date | null;

  @Column('text', { name: 'notify_emails', transformer: jsonText })
  notifyEmails!: string[];

  @Column('varchar', { name: 'notify_on', length: 16, default: 'failure' })
  notifyOn!: NotifyOn;

  /** Receives a JSON POST when a run ends (same `notifyOn` rule as the mail). */
  @Column('text', { name: 'webhook_url', nullable: true })
  webhookUrl!: string | null;

  /**
   * The deletion guard's thresholds (src/versions/deletion-guard.ts); null: the defaults. Only
   * `enabled: false` turns it off.
   */
  @Column('text', { name: 'deletion_guard', nullable: true, transformer: jsonText })
  deletionGuard!: Partial<DeletionGuardSettings> | null;

  /** Verify runs without their own `readPercent` (scheduled ones) read back this share (0-100). */
  @Column('integer', { name: 'verify_read_percent', default: 0 })
  verifyReadPercent!: number;

  /**
   * Read every file back after writing it and compare its SHA-256, for targets that report no
   * hash of what they stored (a local drive, WebDAV, SFTP). Off by default: a second read of
   * every byte on the target.
   */
  @Column('boolean', { name: 'read_back_after_write', default: false })
  readBackAfterWrite!: boolean;

  /** When verify runs start on their own; null or kind 'none': only when asked. */
  @Column('text', { name: 'verify_schedule', nullable: true, transformer: jsonText })
  verifySchedule!: TaskSchedule | null;

  /** The last verify slot handled (or when the verify schedule was set), as `scheduleCheckpoint`. */
  @Column('bigint', { name: 'verify_checkpoint', nullable: true, transformer: epochMillis })
  verifyCheckpoint!: Date | null;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: Date;
}
