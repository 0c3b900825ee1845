// The TypeScript types of the HTTP API for the web app (web/src/api.generated.ts), generated from
// the OpenAPI document the engine serves at /api/docs/openapi.json, with openapi-typescript
// (chosen for being the kept generator of plain types: no client code, no runtime in the bundle).
//   npm run api:types            rewrites the file
//   test/e2e/api-types.e2e-spec.ts fails when the file is stale
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwaggerModule } from '@nestjs/swagger';
import openapiTS, { astToString } from 'openapi-typescript';
import prettier from 'prettier';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';
import { openApiConfig } from '../src/http/openapi.js';

const ROOT = resolve(
  fileURLToPath(import.meta.url),
  '..',
  '..',
  ...(import.meta.url.includes('/dist/') ? ['..'] : []),
);
export const API_TYPES_FILE = join(ROOT, 'web', 'src', 'api.generated.ts');

/** The OpenAPI document of an engine on a throw-away data folder (nothing listens). */
export async function openApiDocument(): Promise<object> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cbe-openapi-'));
  const app = await createApp({
    config: loadConfig({ DATA_DIR: dataDir, PORT: '0' }),
    logger: false,
  });
  try {
    await app.init();
    return SwaggerModule.createDocument(app, openApiConfig('0.1.0'));
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The file's text for a document: types, formatted as the repository formats TypeScript. */
export async function renderApiTypes(doc: object): Promise<string> {
  const body = astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0]));
  const text = `// Generated from the engine's OpenAPI document by scripts/api-types.ts: do not edit.
// Regenerate with \`npm run api:types\` after changing a controller or a DTO.
${body}`;
  const options = (await prettier.resolveConfig(API_TYPES_FILE)) ?? {};
  return prettier.format(text, { ...options, filepath: API_TYPES_FILE });
}

export async function currentApiTypes(): Promise<string | undefined> {
  return readFile(API_TYPES_FILE, 'utf8').catch(() => undefined);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await renderApiTypes(await openApiDocument());
  await writeFile(API_TYPES_FILE, text);
  process.stdout.write(`wrote ${API_TYPES_FILE}\n`);
}
