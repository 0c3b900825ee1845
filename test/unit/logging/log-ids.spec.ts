import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { Logger, type ArgumentsHost } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AllErrorsFilter } from '../../../src/http/http-errors.js';
import { EngineLogger } from '../../../src/logging/engine-logger.js';
import { requestIdOf, requestLogMiddleware } from '../../../src/logging/logging.module.js';
import { RunDispatcher } from '../../../src/runs/run-dispatcher.js';
import { aRun } from '../../factories/run.factory.js';
import { FakeClock } from '../../support/fake-clock.js';

/**
 * The ids a line belongs to are passed with it, not taken from an async context (issue #21: no
 * AsyncLocalStorage, whose promise hooks every promise of the process would pay for).
 */
describe('log lines name their request and run', () => {
  let out: string;
  const lines = () =>
    out
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(() => {
    out = '';
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out += c.toString();
        cb();
      },
    });
    Logger.overrideLogger(new EngineLogger({ level: 'debug', format: 'json', destination: sink }));
  });

  afterEach(() => Logger.overrideLogger(false));

  /** A response as Express hands it to the middleware: headers, a status, 'finish'. */
  function aResponse(): Response {
    const headers = new Map<string, unknown>();
    const res = Object.assign(new EventEmitter(), {
      statusCode: 200,
      headersSent: false,
      setHeader: (n: string, v: unknown) => headers.set(n.toLowerCase(), v),
      getHeader: (n: string) => headers.get(n.toLowerCase()),
      status(code: number) {
        res.statusCode = code;
        return res;
      },
      json: () => res,
    });
    return res as unknown as Response;
  }

  it('should answer X-Request-Id and carry it on the request line when a request ends', () => {
    const sut = requestLogMiddleware();
    const res = aResponse();
    const req = { headers: {}, method: 'POST', originalUrl: '/api/tasks' } as unknown as Request;

    sut(req, res, (() => undefined) as NextFunction);
    res.statusCode = 201;
    res.emit('finish');

    const reqId = requestIdOf(res);
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines()).toEqual([
      expect.objectContaining({ context: 'HTTP', reqId, msg: expect.stringContaining('POST') }),
    ]);
  });

  it('should carry the request id on the line of a request that failed with a bug', () => {
    const sut = new AllErrorsFilter();
    const res = aResponse();
    res.setHeader('X-Request-Id', 'req-4711');
    const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;

    sut.catch(new Error('a bug'), host);

    expect(res.statusCode).toBe(500);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        reqId: 'req-4711',
        msg: expect.stringContaining('a bug'),
      }),
    ]);
  });

  it('should carry the run id on the line of a run that failed', async () => {
    const run = aRun();
    const sut = new RunDispatcher(
      {
        runs: {
          findById: () => Promise.resolve(run),
          update: () => Promise.resolve(),
          addEvents: () => Promise.resolve(),
        },
        versions: { markRunVersionsPartial: () => Promise.resolve(0) },
        events: {
          runStarted: () => undefined,
          runProgress: () => undefined,
          runFinished: () => undefined,
        },
        clock: new FakeClock(),
      },
      [{ kind: 'backup', execute: () => Promise.reject(new Error('the target vanished')) }],
    );

    await sut.execute(run.id, new AbortController().signal);

    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        runId: run.id,
        msg: expect.stringContaining('the target vanished'),
      }),
    );
  });
});
