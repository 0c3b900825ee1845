import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../persistence/column-transformers.js';

export type UserRole = 'admin' | 'user';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  /** Stored as typed; unique case-insensitively through `username_key`. */
  @Column('varchar', { length: 64 })
  username!: string;

  @Index({ unique: true })
  @Column('varchar', { name: 'username_key', length: 64 })
  usernameKey!: string;

  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`: never the password itself. */
  @Column('varchar', { name: 'password_hash', length: 255 })
  passwordHash!: string;

  @Column('varchar', { length: 16 })
  role!: UserRole;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;
}

/** A signed-in browser. The id is the SHA-256 of the cookie's token: a database leak signs no one in. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn('varchar', { length: 64 })
  id!: string;

  @Index()
  @Column('varchar', { name: 'user_id', length: 36 })
  userId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'expires_at', transformer: epochMillis })
  expiresAt!: Date;
}

/** A token for scripts (`Authorization: Bearer ...`); only its SHA-256 is stored. */
@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Index()
  @Column('varchar', { name: 'user_id', length: 36 })
  userId!: string;

  @Column('varchar', { length: 100 })
  name!: string;

  @Index({ unique: true })
  @Column('varchar', { name: 'token_hash', length: 64 })
  tokenHash!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: Date;

  @Column('bigint', { name: 'last_used_at', nullable: true, transformer: epochMillis })
  lastUsedAt!: Date | null;
}
