import {
  BadRequestException,
  Catch,
  HttpException,
  Logger,
  ValidationPipe,
  type ArgumentsHost,
  type ExceptionFilter,
  type ValidationError,
} from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from '../common/errors/app-errors.js';
import { ConnectorError } from '../connectors/connector.errors.js';
import { remoteAnswerOf } from '../connectors/request-observer.js';
import { requestIdOf } from '../logging/logging.module.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  /** One sentence a person can read. */
  message: string;
  /** One entry per problem, each starting with the field it names. */
  problems?: string[];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  423: 'Locked',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  500: 'Internal Server Error',
};

/** Flattens class-validator errors to "filter.mode must be one of ...", naming the full field path. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    for (const msg of Object.values(e.constraints ?? {})) {
      out.push(
        msg.startsWith(`${e.property} `)
          ? `${path}${msg.slice(e.property.length)}`
          : `${path}: ${msg}`,
      );
    }
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, path));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const problems = flattenValidationErrors(errors);
      return new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: problems.join('; '),
        problems,
      });
    },
  });
}

/**
 * Every error leaves as a JSON body with a message that names the problem; only a real bug is a
 * 500, and its details go to the log, not to the client.
 */
@Catch()
export class AllErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error({
        msg:
          exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
        reqId: requestIdOf(res),
      });
    }
    if (res.headersSent) return;
    const retryAfter = (exception as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (exception instanceof AppError && typeof retryAfter === 'number') {
      res.setHeader('Retry-After', String(retryAfter));
    }
    res.status(body.statusCode).json(body);
  }

  private toBody(e: unknown): ErrorBody {
    if (e instanceof AppError) {
      return {
        statusCode: e.status,
        error: REASONS[e.status] ?? 'Error',
        message: e.message,
        problems: e.problems,
      };
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const r = e.getResponse();
      if (typeof r === 'object' && r !== null) {
        const o = r as { message?: unknown; problems?: string[]; error?: string };
        const message = Array.isArray(o.message)
          ? o.message.join('; ')
          : String(o.message ?? e.message);
        return {
          statusCode: status,
          error: o.error ?? REASONS[status] ?? 'Error',
          message,
          problems: o.problems,
        };
      }
      return { statusCode: status, error: REASONS[status] ?? 'Error', message: String(r) };
    }
    // body-parser's own errors (malformed JSON, body too large) carry a status and a type.
    const bp = e as { type?: string; status?: number; message?: string };
    if (typeof bp?.type === 'string' && typeof bp.status === 'number' && bp.status < 500) {
      const message =
        bp.type === 'entity.parse.failed'
          ? `request body is not valid JSON: ${bp.message ?? ''}`.trim()
          : (bp.message ?? 'bad request body');
      return { statusCode: bp.status, error: REASONS[bp.status] ?? 'Bad Request', message };
    }
    if (isUniqueViolation(e)) {
      // Two requests saving the same unique thing at once (two admins adding one username on
      // PostgreSQL): the loser's check saw nothing, the database's constraint did.
      return {
        statusCode: 409,
        error: 'Conflict',
        message:
          'a record with the same unique name was saved at the same moment; reload and try again',
      };
    }
    if (e instanceof ConnectorError) {
      switch (e.code) {
        case 'NOT_FOUND':
          return { statusCode: 404, error: 'Not Found', message: e.message };
        case 'INVALID_PATH':
        case 'NOT_A_DIRECTORY':
          return { statusCode: 400, error: 'Bad Request', message: e.message };
        case 'AUTH_EXPIRED':
          return {
            statusCode: 409,
            error: 'Conflict',
            message: `the account needs re-authentication: ${e.message}`,
          };
        default: {
          // A server's error text (an HTML page, an XML error naming its internals) is never
          // echoed to the user who pointed the engine at it: only its host and status.
          const answer = remoteAnswerOf(e);
          return {
            statusCode: 502,
            error: 'Bad Gateway',
            message: !answer
              ? `the cloud answered with an error: ${e.message}`
              : answer.status >= 400
                ? `the server at ${answer.host} answered ${answer.status} (${e.code})`
                : `the server at ${answer.host} answered ${answer.status} with something the engine could not read (${e.code})`,
          };
        }
      }
    }
    return {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error; see the server log',
    };
  }
}

/** A unique-constraint violation from PostgreSQL (23505) or SQLite, as TypeORM passes it on. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
