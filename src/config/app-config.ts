import { isAbsolute, resolve } from 'node:path';

/** Typed configuration, read from the environment once at start-up and validated. */
export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  secrets: SecretsConfig;
  backup: BackupConfig;
  /** Public URL of the web UI, for links in notifications. */
  publicUrl: string;
}

export type DatabaseConfig =
  { type: 'sqlite'; file: string } | { type: 'postgres'; url: string; schema?: string };

export interface SecretsConfig {
  /** 32-byte key, base64 or hex, from SECRET_KEY; else a key file created on first start. */
  key?: string;
  keyFile: string;
}

export interface BackupConfig {
  /** Transfers in flight per run unless the task says otherwise. */
  defaultConcurrency: number;
  /** Runs executing at the same time in this process. */
  maxParallelRuns: number;
  /** Attempts per file for retryable failures (connection cuts, 5xx, rate limits). */
  fileAttempts: number;
}

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; every problem is reported at once, naming the variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got '${raw}')`);
      return def;
    }
    return n;
  };
  const port = int('PORT', 3000, 0, 65535);
  const dataDir = resolvePath(env.DATA_DIR ?? './data');
  let database: DatabaseConfig = { type: 'sqlite', file: resolve(dataDir, 'backup.sqlite') };
  const url = env.DATABASE_URL;
  if (url) {
    if (/^postgres(ql)?:\/\//.test(url)) {
      database = { type: 'postgres', url, schema: env.DATABASE_SCHEMA || undefined };
    } else if (url.startsWith('sqlite:')) {
      database = { type: 'sqlite', file: resolvePath(url.slice('sqlite:'.length)) };
    } else {
      problems.push(
        `DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got '${url.split(':')[0]}:...')`,
      );
    }
  }
  const key = env.SECRET_KEY || undefined;
  if (key !== undefined && decodeKey(key) === undefined) {
    problems.push('SECRET_KEY must be 32 bytes, given as 64 hex characters or base64');
  }
  const config: AppConfig = {
    port,
    host: env.HOST || '0.0.0.0',
    dataDir,
    database,
    secrets: { key, keyFile: resolvePath(env.SECRET_KEY_FILE ?? `${dataDir}/secret.key`) },
    backup: {
      defaultConcurrency: int('BACKUP_CONCURRENCY', 4, 1, 64),
      maxParallelRuns: int('BACKUP_PARALLEL_RUNS', 2, 1, 32),
      fileAttempts: int('BACKUP_FILE_ATTEMPTS', 5, 1, 20),
    },
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/$/, ''),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A 32-byte key from 64 hex characters or base64; undefined when it is neither. */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const b = Buffer.from(t, 'base64');
  return b.length === 32 ? b : undefined;
}

function resolvePath(p: string): string {
  return isAbsolute(p) ? p : resolve(process.cwd(), p);
}
