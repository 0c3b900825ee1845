import { startTestApp, type TestApp } from '../support/test-app.js';

describe('the OpenAPI page can be used to try the API', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('should declare a bearer scheme for every route and document the CSRF header', async () => {
    const doc = (await t.http.get('/api/docs/openapi.json').expect(200)).body as {
      components: { securitySchemes: Record<string, Record<string, string>> };
      security: Array<Record<string, string[]>>;
      info: { description: string };
    };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.csrf).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-CSRF-Token',
    });
    expect(doc.security).toEqual([{ bearer: [] }, { csrf: [] }]);
    expect(doc.info.description).toContain('X-CSRF-Token');
    const ui = await t.http.get('/api/docs/swagger-ui-init.js').expect(200);
    expect(ui.text).toContain('"persistAuthorization": true');
  });

  it('should accept a write "Try it out" sends with the token, while the cookie alone still needs CSRF', async () => {
    const token = (await t.http.post('/api/tokens').send({ name: 'docs' }).expect(201)).body
      .token as string;
    // What Swagger UI sends after Authorize: the bearer header, and the page's cookie with it.
    await t.anon
      .post('/api/tasks')
      .set('Authorization', `Bearer ${token}`)
      .set('Cookie', t.sessionCookie)
      .send({})
      .expect(400);
    await t.anon.post('/api/tasks').set('Cookie', t.sessionCookie).send({}).expect(403);
  });
});
