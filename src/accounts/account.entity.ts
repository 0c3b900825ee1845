import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis, jsonText } from '../persistence/column-transformers.js';

/** 'awaiting-code': an iCloud sign-in waits for the verification code from a trusted device. */
export type AccountState = 'connected' | 'needs-reauth' | 'awaiting-code' | 'error';

@Entity('accounts')
export class AccountEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { length: 64 })
  kind!: string;

  @Column('varchar', { length: 200 })
  name!: string;

  /** The user who connected it; null only for rows from before sign-in (the first admin adopts them). */
  @Column('varchar', { name: 'owner_id', length: 36, nullable: true })
  ownerId!: string | null;

  /** Non-secret connector options. */
  @Column('text', { transformer: jsonText })
  config!: Record<string, string | number | boolean>;

  /** Secret options and tokens, sealed by the vault (AES-256-GCM). Never leaves the server. */
  @Column('text', { name: 'sealed_secrets', nullable: true })
  sealedSecrets!: string | null;

  @Column('varchar', { length: 32 })
  state!: AccountState;

  @Column('text', { name: 'state_message', nullable: true })
  stateMessage!: string | null;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: Date;
}
