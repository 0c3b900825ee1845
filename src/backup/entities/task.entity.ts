import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis, jsonText } from '../../persistence/column-transformers.js';

export type FilterMode = 'all' | 'include' | 'exclude';

@Entity('tasks')
export class TaskEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { length: 200 })
  name!: string;

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

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: Date;
}
