import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../persistence/column-transformers.js';

/**
 * The provider's id of the task's target folder, as its last completed run saw it. A folder at
 * the same path with another id was deleted and made again (by a person, or by the writes of a
 * run that went on after the deletion): the earlier versions' files are not in it.
 */
@Entity('target_folders')
export class TargetFolderEntity {
  @PrimaryColumn('varchar', { name: 'task_id', length: 36 })
  taskId!: string;

  /** The id holds for this account and path only; a task pointed elsewhere starts afresh. */
  @Column('varchar', { name: 'target_account_id', length: 36 })
  targetAccountId!: string;

  @Column('text')
  path!: string;

  @Column('text', { name: 'folder_id' })
  folderId!: string;

  @Column('bigint', { name: 'seen_at', transformer: epochMillis })
  seenAt!: Date;
}
