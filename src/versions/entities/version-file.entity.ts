import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { HashSet } from '../../connectors/hashing/hash-kinds.js';
import { bigintNumber, epochMillis, jsonText } from '../../persistence/column-transformers.js';

/**
 * One stored content of one path, valid for the versions firstSeq..lastSeq (lastSeq null: still
 * current). A version's file list is every record whose range covers its seq, so committing a
 * version writes rows only for what changed.
 */
@Entity('version_files')
@Index('IDX_version_files_task_path_range', ['taskId', 'path', 'lastSeq', 'firstSeq'])
@Index(['taskId', 'lastSeq'])
@Index(['taskId', 'firstSeq'])
export class VersionFileEntity {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Column('varchar', { name: 'task_id', length: 36 })
  taskId!: string;

  /** Source-relative path. */
  @Column('text')
  path!: string;

  @Column('bigint', { transformer: bigintNumber })
  size!: number;

  @Column('varchar', { length: 64 })
  sha256!: string;

  /** Hashes the source reported (md5, quickXor...), for change detection. */
  @Column('text', { name: 'source_hashes', transformer: jsonText })
  sourceHashes!: HashSet;

  @Column('text', { name: 'source_id', nullable: true })
  sourceId!: string | null;

  @Column('bigint', { name: 'modified_at', nullable: true, transformer: epochMillis })
  modifiedAt!: Date | null;

  /** Target-relative path of the stored bytes. */
  @Column('text', { name: 'stored_path' })
  storedPath!: string;

  @Column('integer', { name: 'first_seq' })
  firstSeq!: number;

  @Column('integer', { name: 'last_seq', nullable: true })
  lastSeq!: number | null;
}
