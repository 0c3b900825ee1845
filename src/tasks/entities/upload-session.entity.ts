import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../../persistence/column-transformers.js';

/**
 * A large file's upload in flight (issue 18, item 6): the provider's session, sealed, and the
 * bytes it confirmed, so that a run resumed after a crash continues the upload instead of
 * sending the file from byte 0. One row per task and source path; removed once the file is
 * stored.
 */
@Entity('upload_sessions')
@Index('IDX_upload_sessions_task_source', ['taskId', 'sourcePath'], { unique: true })
export class UploadSessionEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'task_id', length: 36 })
  taskId!: string;

  @Column('text', { name: 'source_path' })
  sourcePath!: string;

  /** The session belongs to this target account; another account cannot continue it. */
  @Column('varchar', { name: 'target_account_id', length: 36 })
  targetAccountId!: string;

  /** Where the file lands when the session completes (fixed when the session was opened). */
  @Column('text', { name: 'target_path' })
  targetPath!: string;

  /** The source file's size and modification time: a changed file starts a fresh upload. */
  @Column('bigint', { transformer: bigintNumber })
  size!: number;

  @Column('bigint', { name: 'source_modified_at', nullable: true, transformer: epochMillis })
  sourceModifiedAt!: Date | null;

  /** The session's locator (an upload URL or session id: bearer-like), sealed by the vault. */
  @Column('text', { name: 'sealed_locator' })
  sealedLocator!: string;

  /** Bytes the target confirmed, last time the run wrote it down (the provider is asked again). */
  @Column('bigint', { name: 'confirmed_bytes', transformer: bigintNumber })
  confirmedBytes!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: Date;
}
