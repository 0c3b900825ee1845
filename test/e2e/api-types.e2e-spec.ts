import {
  API_TYPES_FILE,
  currentApiTypes,
  openApiDocument,
  renderApiTypes,
} from '../../scripts/api-types.js';

/**
 * Issue 22, "generated types for the web app instead of hand-copied interfaces": the web app's
 * API types are generated from the OpenAPI document; a controller or DTO changed without
 * regenerating them fails here.
 */
describe('the web app API types (web/src/api.generated.ts)', () => {
  it('should be what `npm run api:types` generates from the current OpenAPI document', async () => {
    const expected = await renderApiTypes(await openApiDocument());
    const current = await currentApiTypes();
    if (current !== expected) {
      throw new Error(
        `${API_TYPES_FILE} is stale or missing: run \`npm run api:types\` and commit the result`,
      );
    }
    expect(current).toContain("'/api/tasks'");
  }, 60_000);
});
