import { randomUUID } from 'node:crypto';
import { Logger, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { redactText } from './redact.js';

/** An id a client sent (X-Request-Id) is kept when it is short and plain; else a new one. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The id of the request `res` answers (its X-Request-Id), for the lines logged serving it. */
export function requestIdOf(res: Pick<Response, 'getHeader'>): string | undefined {
  const id = res.getHeader(REQUEST_ID_HEADER);
  return typeof id === 'string' ? id : undefined;
}

const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Gives each HTTP request an id (answered as X-Request-Id, passed with the lines logged while
 * serving it: `requestIdOf(res)`) and logs one line when it ends: method, path (query values
 * that look secret masked), status and duration. Reads at debug level, writes and failures at
 * info and above.
 */
export function requestLogMiddleware(logger = new Logger('HTTP')) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const reqId =
      typeof incoming === 'string' && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, reqId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
      const line = {
        msg: `${req.method} ${redactText(req.originalUrl)} ${res.statusCode} ${ms} ms`,
        reqId,
        method: req.method,
        status: res.statusCode,
        durationMs: ms,
      };
      if (res.statusCode >= 500) logger.error(line);
      else if (res.statusCode >= 400) logger.warn(line);
      else if (req.method === 'GET' || req.method === 'HEAD') logger.debug(line);
      else logger.log(line);
    });
    next();
  };
}

/** Request ids and request lines; the logger itself is given to NestFactory (main.ts). */
@Module({})
export class LoggingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestLogMiddleware()).forRoutes('*');
  }
}
