import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

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
  /** The user's own OAuth apps, per connector kind: defaults for the "connect" flow. */
  oauth: OAuthAppsConfig;
  /** SMTP server for notifications from the environment; the settings API may override it. */
  smtp: SmtpConfig;
  /** What this process does: serve the API, execute runs, or both (the default). */
  role: ProcessRole;
  /** Set with REDIS_URL: runs and schedule slots are BullMQ jobs shared by the cluster. */
  cluster?: ClusterConfig;
  auth: AuthConfig;
  security: SecurityConfig;
}

/** Who may point the engine where: local folders and outbound addresses (README "Security"). */
export interface SecurityConfig {
  /**
   * LOCAL_ROOTS: folders under which non-admin users may create local accounts, comma-separated.
   * `/srv/backups/{user}` gives each user their own folder; `alice=/srv/alice` one user only.
   * Unset: non-admins get no local folder; admins may use any folder but the engine's own.
   */
  localRoots: LocalRootGrant[];
  /** OUTBOUND_ALLOW: private addresses (IPs or CIDRs) non-admins may reach (a NAS on the LAN). */
  outboundAllow: string[];
  /** Files and folders no account may reach, for anyone: data dir, key file, database, install. */
  forbiddenPaths: string[];
  /** SETUP_TOKEN: fixes the first-start token instead of a random one (automation). */
  setupToken?: string;
}

export interface LocalRootGrant {
  /** Absolute path; may contain `{user}`. */
  path: string;
  /** Only for this username (case-insensitive); undefined: every non-admin user. */
  user?: string;
}

export interface AuthConfig {
  /** ADMIN_USERNAME / ADMIN_PASSWORD: the admin created on a first start (else the UI asks). */
  adminUsername?: string;
  adminPassword?: string;
  /** Failed sign-ins per username and address before a lock (LOGIN_MAX_FAILURES). */
  maxLoginFailures: number;
  /** Lock length and counting window, in seconds (LOGIN_LOCK_SECONDS). */
  loginLockSeconds: number;
  /** Failed sign-ins per address per hour, all usernames (LOGIN_MAX_FAILURES_PER_ADDRESS). */
  maxLoginFailuresPerAddress: number;
  /**
   * TRUST_PROXY: Express's 'trust proxy' (e.g. `loopback` or `1`) behind a reverse proxy, so
   * the client's address (throttling) and https (Secure cookies) come from X-Forwarded-*.
   */
  trustProxy?: string;
}

export type ProcessRole = 'api' | 'worker' | 'all';

export interface ClusterConfig {
  redisUrl: string;
  /** BullMQ key prefix: several installations (or test suites) can share one Redis. */
  queuePrefix: string;
  /**
   * How long a worker's hold on a run lasts without renewal (renewed every half of it): a killed
   * worker's run is handed to another worker after about this long.
   */
  lockDurationMs: number;
}

export type SmtpTlsMode = 'none' | 'starttls' | 'tls';

export interface SmtpConfig {
  host?: string;
  port: number;
  /** 'tls': TLS from the first byte (465); 'starttls': upgrade required (587); 'none': plain. */
  tls: SmtpTlsMode;
  user?: string;
  password?: string;
  from?: string;
}

/** Connector kind ('dropbox', ...) -> its OAuth app settings from the environment. */
export type OAuthAppsConfig = Record<string, OAuthAppConfig>;

export interface OAuthAppConfig {
  /** Option key -> value (clientId, clientSecret, tenant); a request's options override them. */
  defaults: Record<string, string>;
  /** Option key -> the variable that sets it, for messages ("set DROPBOX_APP_KEY"). */
  envByOption: Record<string, string>;
}

/** One entry per OAuth cloud: which variable fills which option of its connector. */
const OAUTH_APP_ENV: ReadonlyArray<{ kind: string; vars: Record<string, string> }> = [
  {
    kind: 'google-drive',
    vars: { GOOGLE_DRIVE_CLIENT_ID: 'clientId', GOOGLE_DRIVE_CLIENT_SECRET: 'clientSecret' },
  },
  {
    kind: 'onedrive',
    vars: {
      ONEDRIVE_CLIENT_ID: 'clientId',
      ONEDRIVE_CLIENT_SECRET: 'clientSecret',
      ONEDRIVE_TENANT: 'tenant',
    },
  },
  { kind: 'dropbox', vars: { DROPBOX_APP_KEY: 'clientId', DROPBOX_APP_SECRET: 'clientSecret' } },
];

// 'common' | 'organizations' | 'consumers', a tenant GUID, or a verified domain.
const TENANT =
  /^(common|organizations|consumers|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

function loadOAuthApps(env: Env, problems: string[]): OAuthAppsConfig {
  const out: OAuthAppsConfig = {};
  for (const { kind, vars } of OAUTH_APP_ENV) {
    const app: OAuthAppConfig = { defaults: {}, envByOption: {} };
    for (const [name, key] of Object.entries(vars)) {
      app.envByOption[key] = name;
      const raw = env[name]?.trim();
      if (!raw) continue;
      // Ids and secrets are single tokens; a space or newline is a copy-paste accident.
      if (/[\s\p{Cc}]/u.test(raw)) problems.push(`${name} must not contain spaces or line breaks`);
      else if (key === 'tenant' && !TENANT.test(raw)) {
        problems.push(
          `${name} must be common, organizations, consumers, a tenant id or a domain (got '${raw}')`,
        );
      } else app.defaults[key] = raw;
    }
    const idVar = Object.keys(vars).find((n) => vars[n] === 'clientId')!;
    const secretVar = Object.keys(vars).find((n) => vars[n] === 'clientSecret');
    if (secretVar && env[secretVar]?.trim() && !env[idVar]?.trim()) {
      problems.push(`${secretVar} is set but ${idVar} is not: set both (they belong together)`);
    }
    out[kind] = app;
  }
  return out;
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
    oauth: loadOAuthApps(env, problems),
    smtp: loadSmtp(env, problems),
    role: 'all',
    auth: {
      adminUsername: env.ADMIN_USERNAME || undefined,
      adminPassword: env.ADMIN_PASSWORD || undefined,
      maxLoginFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
      loginLockSeconds: int('LOGIN_LOCK_SECONDS', 900, 1, 86_400),
      maxLoginFailuresPerAddress: int('LOGIN_MAX_FAILURES_PER_ADDRESS', 100, 1, 100_000),
      trustProxy: env.TRUST_PROXY || undefined,
    },
    security: {
      localRoots: loadLocalRoots(env.LOCAL_ROOTS, problems),
      outboundAllow: loadOutboundAllow(env.OUTBOUND_ALLOW, problems),
      forbiddenPaths: [],
      setupToken: env.SETUP_TOKEN?.trim() || undefined,
    },
  };
  config.security.forbiddenPaths = [
    dataDir,
    config.secrets.keyFile,
    ...(database.type === 'sqlite' ? [database.file] : []),
    ENGINE_DIR,
  ];
  if (Boolean(env.ADMIN_USERNAME) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push('ADMIN_USERNAME and ADMIN_PASSWORD go together: set both or neither');
  }
  const role = env.ROLE || 'all';
  if (role === 'api' || role === 'worker' || role === 'all') config.role = role;
  else problems.push(`ROLE must be api, worker or all (got '${role}')`);
  const redisUrl = env.REDIS_URL;
  if (redisUrl) {
    if (!/^rediss?:\/\//.test(redisUrl)) {
      problems.push(
        `REDIS_URL must start with redis:// or rediss:// (got '${redisUrl.split(':')[0]}:...')`,
      );
    } else if (database.type !== 'postgres') {
      problems.push(
        'REDIS_URL (cluster mode) needs DATABASE_URL=postgres://...: every node must share one database',
      );
    } else {
      const queuePrefix = env.QUEUE_PREFIX || 'cbe';
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(queuePrefix)) {
        problems.push(
          `QUEUE_PREFIX must be 1-64 letters, digits, '_', '.' or '-' (got '${queuePrefix}')`,
        );
      }
      config.cluster = {
        redisUrl,
        queuePrefix,
        lockDurationMs: int('QUEUE_LOCK_MS', 30_000, 1_000, 600_000),
      };
    }
  } else if (config.role !== 'all') {
    problems.push(`ROLE=${config.role} needs cluster mode (REDIS_URL and DATABASE_URL)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The folder the engine is installed in: the nearest one above this file with a package.json. */
const ENGINE_DIR = findEngineDir(import.meta.dirname ?? process.cwd());

function findEngineDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** `/a, /srv/{user}, bob=/home/bob/backup` -> grants; each path must be absolute. */
export function loadLocalRoots(raw: string | undefined, problems: string[]): LocalRootGrant[] {
  const out: LocalRootGrant[] = [];
  for (const part of (raw ?? '').split(',')) {
    const entry = part.trim();
    if (!entry) continue;
    const m = /^([A-Za-z0-9._@-]{1,64})=(.*)$/.exec(entry);
    const path = (m ? m[2]! : entry).trim();
    if (!isAbsolute(path) || path.includes('\0')) {
      problems.push(`LOCAL_ROOTS: '${entry}' is not an absolute path (or user=/absolute/path)`);
      continue;
    }
    out.push(m ? { path: resolve(path), user: m[1]!.toLowerCase() } : { path: resolve(path) });
  }
  return out;
}

function loadOutboundAllow(raw: string | undefined, problems: string[]): string[] {
  const out: string[] = [];
  for (const part of (raw ?? '').split(',')) {
    const entry = part.trim();
    if (!entry) continue;
    const [ip, bits, extra] = entry.split('/');
    const family = isIP(ip ?? '');
    const max = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || !okBits || extra !== undefined) {
      problems.push(
        `OUTBOUND_ALLOW: '${entry}' is not an IP address or CIDR (10.0.0.0/8, fd00::/8)`,
      );
    } else out.push(entry);
  }
  return out;
}

function loadSmtp(env: Env, problems: string[]): SmtpConfig {
  const tls = env.SMTP_TLS || 'starttls';
  const smtp: SmtpConfig = { port: 587, tls: 'starttls' };
  if (tls === 'none' || tls === 'starttls' || tls === 'tls') smtp.tls = tls;
  else problems.push(`SMTP_TLS must be none, starttls or tls (got '${tls}')`);
  const port = env.SMTP_PORT;
  if (port) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      problems.push(`SMTP_PORT must be a whole number from 1 to 65535 (got '${port}')`);
    } else smtp.port = n;
  } else if (smtp.tls === 'tls') smtp.port = 465;
  if (env.SMTP_HOST) smtp.host = env.SMTP_HOST.trim();
  if (env.SMTP_USER) smtp.user = env.SMTP_USER;
  if (env.SMTP_PASSWORD) smtp.password = env.SMTP_PASSWORD;
  if (env.SMTP_FROM) smtp.from = env.SMTP_FROM.trim();
  if (smtp.user && !smtp.password) problems.push('SMTP_USER is set but SMTP_PASSWORD is not');
  return smtp;
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
