import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis } from '../../persistence/column-transformers.js';

/**
 * 'running' while its run goes on; 'partial' when the run ended without every file stored;
 * 'held' when the deletion guard stopped it (complete on the target, but deleting or changing far
 * more than usual: kept, not counted by retention, nothing older pruned, until an owner approves
 * it (-> complete) or discards it (-> discarded, freed by the next prune)); 'damaged' when a
 * verify run found stored copies missing or different.
 */
export type VersionStatus = 'running' | 'partial' | 'complete' | 'held' | 'discarded' | 'damaged';

@Entity('versions')
@Index(['taskId', 'seq'], { unique: true })
export class VersionEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'task_id', length: 36 })
  taskId!: string;

  @Column('varchar', { name: 'run_id', length: 36 })
  runId!: string;

  /** 1, 2, 3... per task. File records refer to versions by this number. */
  @Column('integer')
  seq!: number;

  @Column('varchar', { length: 16 })
  status!: VersionStatus;

  /** Target-relative folder that holds the bytes first stored by this version. */
  @Column('text', { name: 'storage_folder' })
  storageFolder!: string;

  @Column('text', { name: 'manifest_path', nullable: true })
  manifestPath!: string | null;

  @Column('integer', { name: 'file_count', default: 0 })
  fileCount!: number;

  @Column('bigint', { name: 'total_bytes', default: 0, transformer: bigintNumber })
  totalBytes!: number;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'completed_at', nullable: true, transformer: epochMillis })
  completedAt!: Date | null;

  /** Why the version is held or damaged, in a sentence for the UI and the mail. */
  @Column('text', { name: 'status_reason', nullable: true })
  statusReason!: string | null;

  /** Files of the source the run could not store (bad names, unreadable...): listed in the run log. */
  @Column('integer', { name: 'skipped_count', default: 0 })
  skippedCount!: number;

  /** When a verify run last checked every stored copy of the version. */
  @Column('bigint', { name: 'verified_at', nullable: true, transformer: epochMillis })
  verifiedAt!: Date | null;
}
