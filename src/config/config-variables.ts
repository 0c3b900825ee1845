/**
 * Every environment variable the engine reads, for `--help` and `cbe config check`. loadConfig
 * (app-config.ts) validates them; this table only describes them. A variable added there gets a
 * line here too (a unit test compares the two lists).
 */
export interface ConfigVariable {
  name: string;
  group: ConfigGroup;
  /** The value used when the variable is unset, as text ('' when there is none). */
  default: string;
  description: string;
  /** Never printed: `config check` shows only whether it is set. */
  secret?: boolean;
}

export type ConfigGroup =
  'server' | 'storage' | 'backup' | 'sign-in' | 'cluster' | 'oauth' | 'mail' | 'operations';

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', group: 'server', default: '3000', description: 'TCP port of the web UI and API' },
  {
    name: 'HOST',
    group: 'server',
    default: '0.0.0.0',
    description: 'address to listen on (an IP address or a name of this machine)',
  },
  {
    name: 'PUBLIC_URL',
    group: 'server',
    default: 'http://localhost:PORT',
    description: 'the address users reach the UI at (links in mails, OAuth redirect URIs)',
  },
  {
    name: 'TRUST_PROXY',
    group: 'server',
    default: '',
    description:
      'behind a reverse proxy: true, a hop count, or addresses/names (loopback, 10.0.0.0/8) whose X-Forwarded-* headers count',
  },
  {
    name: 'ROLE',
    group: 'server',
    default: 'all',
    description: 'all, api (serve HTTP only) or worker (execute runs only; cluster mode)',
  },
  {
    name: 'DATA_DIR',
    group: 'storage',
    default: './data',
    description: 'folder for the SQLite database, the key file and other state',
  },
  {
    name: 'DATABASE_URL',
    group: 'storage',
    default: 'sqlite:DATA_DIR/backup.sqlite',
    description: 'postgres://user:pass@host/db or sqlite:/path/to/file.sqlite',
    secret: true,
  },
  {
    name: 'DATABASE_SCHEMA',
    group: 'storage',
    default: 'public',
    description: 'PostgreSQL schema',
  },
  {
    name: 'SECRET_KEY',
    group: 'storage',
    default: '',
    description: '32-byte key (64 hex characters or base64) sealing cloud tokens and passwords',
    secret: true,
  },
  {
    name: 'SECRET_KEY_FILE',
    group: 'storage',
    default: 'DATA_DIR/secret.key',
    description: 'where the key is kept when SECRET_KEY is unset (created with mode 0600)',
  },
  {
    name: 'LOCAL_ROOTS',
    group: 'sign-in',
    default: '',
    description:
      'folders non-admin users may use for local accounts, comma-separated: /srv/{user}, alice=/home/alice',
  },
  {
    name: 'OUTBOUND_ALLOW',
    group: 'sign-in',
    default: '',
    description: 'private addresses or CIDRs non-admins may point WebDAV, S3, SFTP and webhooks at',
  },
  {
    name: 'SETUP_TOKEN',
    group: 'sign-in',
    default: '',
    description: 'fixes the first-start token (else random, printed in the log)',
    secret: true,
  },
  {
    name: 'BACKUP_CONCURRENCY',
    group: 'backup',
    default: '4',
    description: 'files in flight per run unless the task says otherwise (1-64)',
  },
  {
    name: 'BACKUP_PARALLEL_RUNS',
    group: 'backup',
    default: '2',
    description: 'runs executing at once in this process (1-32)',
  },
  {
    name: 'BACKUP_FILE_ATTEMPTS',
    group: 'backup',
    default: '5',
    description: 'attempts per file for retryable failures (1-20)',
  },
  {
    name: 'ADMIN_USERNAME',
    group: 'sign-in',
    default: '',
    description: 'admin created on the first start (else the UI asks)',
  },
  {
    name: 'ADMIN_PASSWORD',
    group: 'sign-in',
    default: '',
    description: "that admin's password",
    secret: true,
  },
  {
    name: 'LOGIN_MAX_FAILURES',
    group: 'sign-in',
    default: '5',
    description: 'failed sign-ins per username and address before a lock',
  },
  {
    name: 'LOGIN_LOCK_SECONDS',
    group: 'sign-in',
    default: '900',
    description: 'length of that lock',
  },
  {
    name: 'LOGIN_MAX_FAILURES_PER_ADDRESS',
    group: 'sign-in',
    default: '100',
    description: 'failed sign-ins per address per hour, all usernames',
  },
  {
    name: 'REDIS_URL',
    group: 'cluster',
    default: '',
    description: 'redis://host:6379: cluster mode (needs a PostgreSQL DATABASE_URL)',
    secret: true,
  },
  {
    name: 'QUEUE_PREFIX',
    group: 'cluster',
    default: 'cbe',
    description: 'key prefix in Redis, so installations can share one server',
  },
  {
    name: 'QUEUE_LOCK_MS',
    group: 'cluster',
    default: '30000',
    description: "how long a dead worker's run stays held before another worker takes it",
  },
  {
    name: 'GOOGLE_DRIVE_CLIENT_ID',
    group: 'oauth',
    default: '',
    description: 'your Google OAuth app',
  },
  {
    name: 'GOOGLE_DRIVE_CLIENT_SECRET',
    group: 'oauth',
    default: '',
    description: "that app's secret",
    secret: true,
  },
  { name: 'ONEDRIVE_CLIENT_ID', group: 'oauth', default: '', description: 'your Microsoft app' },
  {
    name: 'ONEDRIVE_CLIENT_SECRET',
    group: 'oauth',
    default: '',
    description: "that app's secret",
    secret: true,
  },
  {
    name: 'ONEDRIVE_TENANT',
    group: 'oauth',
    default: 'common',
    description: 'common, consumers, organizations or a tenant id',
  },
  { name: 'DROPBOX_APP_KEY', group: 'oauth', default: '', description: 'your Dropbox app' },
  {
    name: 'DROPBOX_APP_SECRET',
    group: 'oauth',
    default: '',
    description: "that app's secret (optional: PKCE without it)",
    secret: true,
  },
  { name: 'SMTP_HOST', group: 'mail', default: '', description: 'mail server for notifications' },
  { name: 'SMTP_PORT', group: 'mail', default: '587 (465 with tls)', description: 'its port' },
  { name: 'SMTP_TLS', group: 'mail', default: 'starttls', description: 'starttls, tls or none' },
  { name: 'SMTP_USER', group: 'mail', default: '', description: 'SMTP user name' },
  {
    name: 'SMTP_PASSWORD',
    group: 'mail',
    default: '',
    description: 'SMTP password',
    secret: true,
  },
  { name: 'SMTP_FROM', group: 'mail', default: '', description: 'sender address' },
  {
    name: 'LOG_LEVEL',
    group: 'operations',
    default: 'info',
    description: 'fatal, error, warn, info, debug or trace',
  },
  {
    name: 'LOG_FORMAT',
    group: 'operations',
    default: 'auto',
    description: 'json (one object a line), pretty, or auto (pretty in a terminal, else json)',
  },
  {
    name: 'METRICS_LISTEN',
    group: 'operations',
    default: '',
    description:
      'host:port for Prometheus /metrics outside the API, e.g. 127.0.0.1:9464 (/api/metrics takes an admin token)',
  },
  {
    name: 'METRICS_TOKEN',
    group: 'operations',
    default: '',
    description: 'bearer token a scrape of METRICS_LISTEN must send (unset: none)',
    secret: true,
  },
  {
    name: 'HEALTH_MIN_FREE_MB',
    group: 'operations',
    default: '100',
    description: 'readiness fails when DATA_DIR has less free space than this',
  },
];

/** The `--help` text: usage, then the variables by group. */
export function formatConfigHelp(usage: string): string {
  const width = Math.max(...CONFIG_VARIABLES.map((v) => v.name.length)) + 2;
  const lines = [usage, '', 'Configuration (environment variables):'];
  let group = '';
  for (const v of CONFIG_VARIABLES) {
    if (v.group !== group) {
      group = v.group;
      lines.push('', `  ${group}`);
    }
    const def = v.default ? ` [default: ${v.default}]` : '';
    lines.push(`    ${v.name.padEnd(width)}${v.description}${def}`);
  }
  return lines.join('\n') + '\n';
}
