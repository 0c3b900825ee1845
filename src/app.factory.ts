import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { AllErrorsFilter, createValidationPipe } from './http/http-errors.js';
import { serveWebUi } from './http/web-ui.js';
import { installFrontDoor } from './http/front-door.js';
import { openApiConfig, SWAGGER_UI_OPTIONS } from './http/openapi.js';
import type { NextFunction, Request, Response } from 'express';
import { authenticate } from './auth/auth.guard.js';
import { AuthService } from './auth/auth.service.js';
import { LoginGate } from './auth/login-gate.js';
import { AppError } from './common/errors/app-errors.js';
import { checkParsedInput, jsonOnly, securityHeaders } from './security/http-hardening.js';

/** 'true'/'false', a hop count, or Express's names and addresses (`loopback`, `10.0.0.0/8`). */
function trustProxyValue(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false') return false;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** Builds the HTTP app (API, OpenAPI at /api/docs); main.ts and the e2e tests share it. */
export async function createApp(
  opts: AppModuleOptions & { logger?: false | LoggerService },
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(opts), {
    logger: opts.logger ?? ['log', 'warn', 'error'],
  });
  app.disable('x-powered-by');
  // First: a sign-in flood is answered before any other work (Express, headers, parsing, Nest).
  installFrontDoor(app, app.get(LoginGate));
  app.use(securityHeaders({ https: opts.config.publicUrl.startsWith('https:') }));
  app.use(jsonOnly);
  app.useBodyParser('json', { limit: '1mb' });
  app.use(checkParsedInput);
  if (opts.config.auth.trustProxy)
    app.set('trust proxy', trustProxyValue(opts.config.auth.trustProxy));
  // The API's own documentation is for signed-in users too.
  const auth = app.get(AuthService);
  app.use('/api/docs', (req: Request, res: Response, next: NextFunction) => {
    authenticate(auth, req).then(
      (p) => {
        if (p) return next();
        res
          .status(401)
          .json({ statusCode: 401, error: 'Unauthorized', message: 'sign in required' });
      },
      (e: unknown) => {
        const status = e instanceof AppError ? e.status : 500;
        res
          .status(status)
          .json({ statusCode: status, error: 'Unauthorized', message: (e as Error).message });
      },
    );
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllErrorsFilter());
  app.enableShutdownHooks();
  const doc = openApiConfig('0.1.0');
  SwaggerModule.setup(
    'api/docs',
    app,
    () => SwaggerModule.createDocument(app, doc),
    SWAGGER_UI_OPTIONS,
  );
  serveWebUi(app);
  return app;
}
