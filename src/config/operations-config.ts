import { isIP } from 'node:net';

type Env = Record<string, string | undefined>;

export type LogFormat = 'json' | 'pretty' | 'auto';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Logs, metrics and health (LOG_LEVEL, LOG_FORMAT, METRICS_TOKEN, HEALTH_MIN_FREE_MB). */
export interface OperationsConfig {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** METRICS_LISTEN: serve /metrics on this address too (outside the API). */
  metricsListen?: { host: string; port: number };
  /** Bearer token a scrape of METRICS_LISTEN must send; unset: none needed. */
  metricsToken?: string;
  /** Readiness fails when DATA_DIR has less free space (bytes). */
  minFreeBytes: number;
}

export function loadOperationsConfig(env: Env, problems: string[]): OperationsConfig {
  const out: OperationsConfig = {
    logLevel: 'info',
    logFormat: 'auto',
    minFreeBytes: 100 * 2 ** 20,
  };
  const level = env.LOG_LEVEL?.trim().toLowerCase();
  if (level) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) out.logLevel = level as LogLevel;
    else problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${level}')`);
  }
  const format = env.LOG_FORMAT?.trim().toLowerCase();
  if (format) {
    if (format === 'json' || format === 'pretty' || format === 'auto') out.logFormat = format;
    else problems.push(`LOG_FORMAT must be json, pretty or auto (got '${format}')`);
  }
  const token = env.METRICS_TOKEN;
  if (token) {
    if (token.length < 16 || /[\s\p{Cc}]/u.test(token))
      problems.push('METRICS_TOKEN must be at least 16 characters without spaces');
    else out.metricsToken = token;
  }
  const listen = env.METRICS_LISTEN?.trim();
  if (listen) {
    const m = /^(?:(.+):)?(\d{1,5})$/.exec(listen);
    const host = (m?.[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    const port = Number(m?.[2]);
    if (!m || port > 65535 || (!isIP(host) && !/^[a-z0-9.-]+$/i.test(host)))
      problems.push(
        `METRICS_LISTEN must be host:port or a port, e.g. 127.0.0.1:9464 (got '${listen}')`,
      );
    else out.metricsListen = { host, port };
  }
  const free = env.HEALTH_MIN_FREE_MB;
  if (free) {
    const n = Number(free);
    if (!Number.isInteger(n) || n < 0 || n > 10_000_000)
      problems.push(`HEALTH_MIN_FREE_MB must be a whole number of MiB (got '${free}')`);
    else out.minFreeBytes = n * 2 ** 20;
  }
  return out;
}

/**
 * PUBLIC_URL, HOST and TRUST_PROXY: values that used to pass silently (PUBLIC_URL=notaurl) or end
 * in a stack trace at listen time (TRUST_PROXY=banana, HOST=999.1.1.1).
 */
export function checkAddresses(env: Env, problems: string[]): void {
  const publicUrl = env.PUBLIC_URL;
  if (publicUrl) {
    let url: URL | undefined;
    try {
      url = new URL(publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      problems.push(
        `PUBLIC_URL must be an http:// or https:// address such as https://backup.example.com (got '${publicUrl}')`,
      );
    } else if (url.search || url.hash || url.username) {
      problems.push(
        `PUBLIC_URL must not carry a query, fragment or user name (got '${publicUrl}')`,
      );
    }
  }
  const host = env.HOST;
  if (host && !isIP(host) && !isHostName(host)) {
    problems.push(
      `HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name of this machine (got '${host}')`,
    );
  }
  const proxy = env.TRUST_PROXY;
  if (proxy && !isTrustProxy(proxy)) {
    problems.push(
      `TRUST_PROXY must be true, false, a hop count, or comma-separated addresses, subnets or loopback/linklocal/uniquelocal (got '${proxy}')`,
    );
  }
}

function isHostName(h: string): boolean {
  // Labels of letters, digits and '-'; an all-numeric dotted name is a mistyped IP, not a name.
  if (/^[\d.]+$/.test(h)) return false;
  return /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
    h,
  );
}

/** What Express's proxy-addr accepts: names, addresses and subnets (CIDR or netmask). */
function isTrustProxy(v: string): boolean {
  if (v === 'true' || v === 'false' || /^\d{1,3}$/.test(v)) return true;
  return v.split(',').every((part) => {
    const p = part.trim();
    if (p === 'loopback' || p === 'linklocal' || p === 'uniquelocal') return true;
    const [addr, range, ...rest] = p.split('/');
    if (rest.length > 0 || !addr || !isIP(addr)) return false;
    if (range === undefined) return true;
    if (/^\d{1,3}$/.test(range)) return Number(range) <= (isIP(addr) === 4 ? 32 : 128);
    return isIP(range) === 4 && isIP(addr) === 4;
  });
}
