import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { AccountEntity } from '../accounts/account.entity.js';
import { ApiTokenEntity, SessionEntity, UserEntity } from '../auth/user.entity.js';
import { RunEventEntity } from '../tasks/entities/run-error.entity.js';
import { RunEntity } from '../tasks/entities/run.entity.js';
import { TaskEntity } from '../tasks/entities/task.entity.js';
import { UploadSessionEntity } from '../tasks/entities/upload-session.entity.js';
import { TargetFolderEntity } from '../tasks/entities/target-folder.entity.js';
import type { DatabaseConfig } from '../config/app-config.js';
import { InitialSchema1763778000000 } from '../migrations/1763778000000-initial-schema.js';
import { TaskChangeCursor1763785000000 } from '../migrations/1763785000000-task-change-cursor.js';
import { SchedulesNotifications1763795000000 } from '../migrations/1763795000000-schedules-notifications.js';
import { VersionFilesPathIndex1763800000000 } from '../migrations/1763800000000-version-files-path-index.js';
import { UsersSessionsOwnership1763810000000 } from '../migrations/1763810000000-users-sessions-ownership.js';
import { SettingEntity } from '../notifications/setting.entity.js';
import { RestoreAndRetention1763790000000 } from '../migrations/1763790000000-restore-and-retention.js';
import { VersionSafety1767000000001 } from '../migrations/1767000000001-version-safety.js';
import { TaskGuardVerify1768000000200 } from '../migrations/1768000000200-task-guard-verify.js';
import { RunBytesUnchanged1768000000701 } from '../migrations/1768000000701-run-bytes-unchanged.js';
import { UploadSessions1768000000300 } from '../migrations/1768000000300-upload-sessions.js';
import { TargetFolders1768000000301 } from '../migrations/1768000000301-target-folders.js';
import { TaskReadBack1768000000900 } from '../migrations/1768000000900-task-read-back.js';
import { VersionFileEntity } from '../versions/entities/version-file.entity.js';
import { VersionEntity } from '../versions/entities/version.entity.js';

export const ENTITIES = [
  AccountEntity,
  TaskEntity,
  RunEntity,
  RunEventEntity,
  VersionEntity,
  VersionFileEntity,
  SettingEntity,
  UserEntity,
  SessionEntity,
  ApiTokenEntity,
  UploadSessionEntity,
  TargetFolderEntity,
];
/** Listed explicitly (no glob): the same list works from ts-jest and from the compiled build. */
export const MIGRATIONS = [
  InitialSchema1763778000000,
  TaskChangeCursor1763785000000,
  RestoreAndRetention1763790000000,
  SchedulesNotifications1763795000000,
  VersionFilesPathIndex1763800000000,
  UsersSessionsOwnership1763810000000,
  VersionSafety1767000000001,
  TaskGuardVerify1768000000200,
  RunBytesUnchanged1768000000701,
  UploadSessions1768000000300,
  TargetFolders1768000000301,
  TaskReadBack1768000000900,
];

/** SQLite's page cache per connection: negative is KiB (SQLite's own default, -2000). */
export const SQLITE_CACHE_SIZE = -2000;

/** SQLite by default (a file under ./data), PostgreSQL when DATABASE_URL says so. */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (db.type === 'postgres') {
    return { ...common, type: 'postgres', url: db.url, schema: db.schema, extra: { max: 10 } };
  }
  mkdirSync(dirname(db.file), { recursive: true, mode: 0o700 });
  ownerOnly(db.file, true);
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.file,
    // WAL lets the API read while a run writes; NORMAL sync is safe with WAL (no corruption on
    // power loss, at worst the last transactions roll back).
    prepareDatabase: (raw: { pragma(s: string): unknown }) => {
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.pragma('busy_timeout = 5000');
      // SQLite's own default page cache (2 MB). better-sqlite3 builds with 16 MB, which the
      // engine's RSS took on as the ledger grew past it: 18 MiB more malloc heap after five
      // runs of 10,000 files, and peaks over the 200 MiB budget from the fourth (issue #21).
      // Pages beyond it are read from the kernel's page cache; the no-change run of 10,000
      // files took the same time with either (docs/benchmarks.md, stop 24).
      raw.pragma(`cache_size = ${SQLITE_CACHE_SIZE}`);
      // SQLite creates the WAL and shared-memory files with the database's mode; made sure here.
      for (const f of [`${db.file}-wal`, `${db.file}-shm`]) ownerOnly(f, false);
    },
  };
}

/**
 * The database holds every user's sealed secrets: readable by the engine's user only (0600),
 * also when DATA_DIR or the file existed before (umask and older versions left 0644).
 */
function ownerOnly(file: string, create: boolean): void {
  try {
    if (create) closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
