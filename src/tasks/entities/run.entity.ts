import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis, jsonText } from '../../persistence/column-transformers.js';

export type RunKind = 'backup' | 'restore' | 'prune' | 'verify';
export type RunTrigger = 'manual' | 'schedule' | 'catch-up';
/** 'skipped': a schedule slot that came while the task's previous run was still going. */
/**
 * 'warning': finished, but the user should look (files skipped, a version held by the deletion
 * guard, damage found by a verify run); 'offline': the source or target was missing, nothing was
 * written (the message says which).
 */
export type RunStatus =
  'queued' | 'running' | 'completed' | 'warning' | 'failed' | 'offline' | 'cancelled' | 'skipped';
/** 'paused': held between files by a pause request until resumed or cancelled. */
export type RunPhase = 'queued' | 'planning' | 'transferring' | 'committing' | 'paused' | 'done';

export type ConflictPolicy = 'overwrite' | 'skip-identical' | 'keep-both';

/**
 * What a verify run checks: one version, or every version of the task (a target is verified as
 * one run per task stored there). `readPercent` (0-100) of the stored copies are read back and
 * their SHA-256 compared; every copy is checked for existence and size by listing.
 */
export interface VerifyParams {
  versionId?: string;
  readPercent: number;
}

export interface RestoreParams {
  versionId: string;
  /** Files or folders of the version (relative paths); empty: the whole version. */
  paths: string[];
  /** Where to: the task's source account and folder by default (the original location). */
  destination: { accountId: string; path: string };
  conflict: ConflictPolicy;
}

@Entity('runs')
@Index(['taskId', 'createdAt'])
export class RunEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'task_id', length: 36 })
  taskId!: string;

  @Column('varchar', { length: 16 })
  kind!: RunKind;

  @Column('varchar', { length: 16 })
  trigger!: RunTrigger;

  @Index()
  @Column('varchar', { length: 16 })
  status!: RunStatus;

  @Column('varchar', { length: 16 })
  phase!: RunPhase;

  /** Files found at the source that pass the filter. */
  @Column('integer', { name: 'files_total', default: 0 })
  filesTotal!: number;

  @Column('integer', { name: 'files_copied', default: 0 })
  filesCopied!: number;

  /** Unchanged since the previous version: not copied again. */
  @Column('integer', { name: 'files_unchanged', default: 0 })
  filesUnchanged!: number;

  /** Excluded by the extension filter. */
  @Column('integer', { name: 'files_filtered', default: 0 })
  filesFiltered!: number;

  @Column('integer', { name: 'files_failed', default: 0 })
  filesFailed!: number;

  @Column('bigint', { name: 'bytes_total', default: 0, transformer: bigintNumber })
  bytesTotal!: number;

  @Column('bigint', { name: 'bytes_copied', default: 0, transformer: bigintNumber })
  bytesCopied!: number;

  /** Bytes of the unchanged files (part of bytesTotal, not copied again). */
  @Column('bigint', { name: 'bytes_unchanged', default: 0, transformer: bigintNumber })
  bytesUnchanged!: number;

  @Column('integer', { default: 0 })
  retries!: number;

  @Column('varchar', { name: 'version_id', length: 36, nullable: true })
  versionId!: string | null;

  /** What a restore or prune run was asked to do. */
  @Column('text', { nullable: true, transformer: jsonText })
  params!: RestoreParams | VerifyParams | null;

  @Column('text', { name: 'error_message', nullable: true })
  errorMessage!: string | null;

  /** The schedule slot a scheduled or catch-up run belongs to. */
  @Column('bigint', { name: 'scheduled_for', nullable: true, transformer: epochMillis })
  scheduledFor?: Date | null;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'started_at', nullable: true, transformer: epochMillis })
  startedAt!: Date | null;

  @Column('bigint', { name: 'finished_at', nullable: true, transformer: epochMillis })
  finishedAt!: Date | null;
}
