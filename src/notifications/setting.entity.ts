import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../persistence/column-transformers.js';

/** Settings changed from the UI (SMTP server, ...): one JSON value per key; secrets sealed inside. */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn('varchar', { length: 64 })
  key!: string;

  @Column('text')
  value!: string;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: Date;
}
