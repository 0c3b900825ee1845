import type { LoggerService } from '@nestjs/common';
import { pino, type Level, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config.js';
import type { LogFormat, LogLevel } from '../config/operations-config.js';
import { redactText, redactValue } from './redact.js';

export interface EngineLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Exact secret values from the configuration, masked wherever they appear. */
  secrets?: readonly string[];
  /** Where lines go (default stdout); tests pass a buffer. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Nest's own start-up chatter: one line per module, controller and route (~70 lines). Kept at
 * debug level (LOG_LEVEL=debug shows them).
 */
const QUIET_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/**
 * Pino behind Nest's LoggerService: JSON lines (pretty in a terminal), secrets masked. A line
 * names what it belongs to with fields passed along with it: `reqId` of the HTTP request being
 * served (`requestIdOf`), `runId` of a run (`logger.warn({ msg, runId })`). They are never taken
 * from an async context: on Node 20 an enabled AsyncLocalStorage installs promise hooks that
 * every promise of the process pays for (issue #21).
 */
export class EngineLogger implements LoggerService {
  readonly pino: Logger;

  constructor(opts: EngineLoggerOptions) {
    const out = opts.destination ?? process.stdout;
    const pretty = opts.format === 'pretty' || (opts.format === 'auto' && out.isTTY === true);
    const known = (opts.secrets ?? []).filter((s) => s.length >= 8);
    this.pino = pino(
      {
        level: opts.level,
        base: { pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: {
          level: (label) => ({ level: label }),
          log: (obj) => redactValue(obj, known) as Record<string, unknown>,
        },
        hooks: {
          logMethod(args, method) {
            const scrubbed = args.map((a) =>
              typeof a === 'string' ? redactText(a, known) : a,
            ) as Parameters<typeof method>;
            method.apply(this, scrubbed);
          },
        },
      },
      pretty
        ? pinoPretty({
            destination: out as NodeJS.WritableStream,
            sync: true,
            translateTime: 'SYS:HH:MM:ss',
            ignore: 'pid,hostname',
            messageFormat: '{if context}[{context}] {end}{msg}',
            hideObject: false,
          })
        : (out as NodeJS.WritableStream),
    );
  }

  static fromConfig(config: AppConfig, destination?: EngineLoggerOptions['destination']) {
    return new EngineLogger({
      level: config.operations.logLevel,
      format: config.operations.logFormat,
      secrets: configSecrets(config),
      destination,
    });
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest passes (message, context) and, for errors, (message, stack, context).
    const rest = [...params];
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string'
        ? (rest.pop() as string)
        : undefined;
    if (level === 'info' && context && QUIET_CONTEXTS.has(context)) level = 'debug';
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    const stack = rest.find((p) => typeof p === 'string' && p.includes('\n    at '));
    if (stack) fields.stack = stack;
    let msg: string;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (message !== null && typeof message === 'object') {
      const { msg: m, message: mm, ...more } = message as Record<string, unknown>;
      Object.assign(fields, more);
      msg = String(m ?? mm ?? '');
    } else msg = String(message);
    this.pino[level](fields, msg);
  }
}

/** Values from the configuration that must never appear in a log line. */
export function configSecrets(config: AppConfig): string[] {
  const out: string[] = [];
  const add = (v: string | undefined) => {
    if (v) out.push(v);
  };
  add(config.secrets.key);
  add(config.smtp.password);
  add(config.auth.adminPassword);
  add(config.operations.metricsToken);
  for (const app of Object.values(config.oauth)) add(app.defaults.clientSecret);
  for (const url of [
    config.database.type === 'postgres' ? config.database.url : undefined,
    config.cluster?.redisUrl,
  ]) {
    if (!url) continue;
    try {
      add(decodeURIComponent(new URL(url).password));
    } catch {
      // not a URL: nothing to extract
    }
  }
  return out;
}
