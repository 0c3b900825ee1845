import { DocumentBuilder, type OpenAPIObject, type SwaggerCustomOptions } from '@nestjs/swagger';

const DESCRIPTION = `Accounts, backup tasks, runs and versions.

**Authorize** with an API token (Settings > API tokens, or \`POST /api/tokens\`): press
*Authorize*, paste \`cbe_...\` under **bearer**, and *Try it out* works for every route, writes
included. A request with a bearer token needs no CSRF token.

Browsers signed in with the session cookie must send the \`X-CSRF-Token\` header on writes (the
\`csrfToken\` from \`GET /api/auth/session\`); without it they answer 403. To try writes with the
cookie here instead of a token, paste that value under **csrf**.`;

/** The OpenAPI document's settings: bearer tokens for every route, the CSRF header explained. */
export function openApiConfig(version: string): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Cloud backup engine')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'An API token: cbe_...' },
      'bearer',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-CSRF-Token',
        description: 'With the session cookie only: the csrfToken of GET /api/auth/session',
      },
      'csrf',
    )
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('csrf')
    .build();
}

/** Swagger UI: keep the token across reloads, send the cookie too. */
export const SWAGGER_UI_OPTIONS: SwaggerCustomOptions = {
  jsonDocumentUrl: 'api/docs/openapi.json',
  swaggerOptions: { persistAuthorization: true, withCredentials: true },
};
