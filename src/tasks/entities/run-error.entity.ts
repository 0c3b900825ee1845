import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { epochMillis } from '../../persistence/column-transformers.js';

/** One problem met by a run: a file that failed, or a retried fault (level 'retry'). */
@Entity('run_events')
export class RunEventEntity {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Index()
  @Column('varchar', { name: 'run_id', length: 36 })
  runId!: string;

  @Column('varchar', { length: 16 })
  level!: 'error' | 'retry' | 'warning' | 'info';

  @Column('text', { nullable: true })
  path!: string | null;

  @Column('varchar', { length: 32, nullable: true })
  code!: string | null;

  @Column('text')
  message!: string;

  @Column('bigint', { transformer: epochMillis })
  at!: Date;
}
