import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { AllErrorsFilter, createValidationPipe } from './web/http-errors.js';
import { serveWebUi } from './web/web-ui.js';

/** Builds the HTTP app (API, OpenAPI at /api/docs); main.ts and the e2e tests share it. */
export async function createApp(
  opts: AppModuleOptions & { logger?: false },
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(opts), {
    logger: opts.logger === false ? false : ['log', 'warn', 'error'],
  });
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllErrorsFilter());
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle('Cloud backup engine')
    .setDescription('Accounts, backup tasks, runs and versions')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'api/docs/openapi.json',
  });
  serveWebUi(app);
  return app;
}
