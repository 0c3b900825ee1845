import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
  required?: string[];
};
type Operation = { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> };
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** The routes the web app reads, each of which must document its 2xx answer's schema. */
const DESCRIBED: Array<[method: string, path: string]> = [
  ['get', '/api/tasks'],
  ['post', '/api/tasks'],
  ['get', '/api/tasks/{id}'],
  ['patch', '/api/tasks/{id}'],
  ['post', '/api/tasks/{id}/run'],
  ['get', '/api/tasks/{id}/versions'],
  ['get', '/api/runs'],
  ['get', '/api/runs/{id}'],
  ['post', '/api/runs/{id}/cancel'],
  ['get', '/api/versions/{id}'],
  ['get', '/api/accounts'],
  ['post', '/api/accounts'],
  ['get', '/api/accounts/{id}'],
  ['get', '/api/dashboard'],
  ['get', '/api/dashboard/runs'],
  ['get', '/api/auth/session'],
  ['post', '/api/auth/login'],
  ['get', '/api/runs/{id}/events'],
  ['get', '/api/versions/{id}/files'],
  ['get', '/api/versions/{id}/tree'],
  ['get', '/api/versions/{id}/diff'],
  ['get', '/api/versions/{id}/approve/preview'],
  ['post', '/api/versions/{id}/restore'],
  ['get', '/api/users'],
  ['get', '/api/tokens'],
  ['post', '/api/tokens'],
  ['post', '/api/tasks/{id}/verify'],
  ['post', '/api/versions/{id}/verify'],
  ['post', '/api/accounts/{id}/verify'],
  ['put', '/api/tasks/{id}/retention'],
  ['get', '/api/tasks/{id}/prune/preview'],
  ['post', '/api/tasks/{id}/prune'],
  ['get', '/api/schedules/preview'],
  ['get', '/api/connectors'],
  ['get', '/api/settings/smtp'],
  ['put', '/api/settings/smtp'],
  ['post', '/api/accounts/connect'],
  ['post', '/api/accounts/icloud/sign-in'],
  ['post', '/api/accounts/{id}/icloud/code'],
];

function successSchema(doc: Doc, method: string, path: string): Schema | undefined {
  const responses = doc.paths[path]?.[method]?.responses ?? {};
  const ok = Object.entries(responses).find(([code]) => /^2\d\d$/.test(code))?.[1];
  return ok?.content?.['application/json']?.schema;
}

function resolveRef(doc: Doc, s: Schema): Schema {
  let out = s;
  while (out.$ref) out = doc.components.schemas[out.$ref.replace('#/components/schemas/', '')]!;
  if (out.allOf) {
    const parts = out.allOf.map((p) => resolveRef(doc, p));
    return { ...out, properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) };
  }
  return out;
}

/**
 * Paths (a.b[0].c) of what `value` carries that `schema` does not describe, and of required
 * properties it lacks.
 */
function undocumented(doc: Doc, value: unknown, schema: Schema, at: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  const s = resolveRef(doc, schema);
  if (Array.isArray(value)) {
    if (!s.items) return [`${at} (an array, documented as ${s.type ?? 'untyped'})`];
    return value.flatMap((v, i) => undocumented(doc, v, s.items!, `${at}[${i}]`));
  }
  if (!s.properties) {
    return s.additionalProperties ? [] : [`${at} (an object, documented without properties)`];
  }
  const absent = (s.required ?? [])
    .filter((k) => !(k in value))
    .map((k) => `${at}.${k} (documented as required, absent)`);
  return absent.concat(
    Object.entries(value).flatMap(([k, v]) => {
      const p = s.properties![k];
      return p ? undocumented(doc, v, p, `${at}.${k}`) : [`${at}.${k} (not in the schema)`];
    }),
  );
}

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

  describe('response schemas (issue 22, item 6)', () => {
    let doc: Doc;
    let dir: string;

    beforeAll(async () => {
      doc = (await t.http.get('/api/docs/openapi.json').expect(200)).body as Doc;
      dir = await mkdtemp(join(tmpdir(), 'cbe-openapi-'));
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('should document a 2xx answer with a schema for each route the web app reads', () => {
      const missing = DESCRIBED.filter(([m, p]) => !successSchema(doc, m, p)).map(
        ([m, p]) => `${m.toUpperCase()} ${p}`,
      );
      expect(missing).toEqual([]);
    });

    it('should describe every property of real answers: task, run, version, account, dashboard, session, files, users, tokens', async () => {
      const sourceRoot = join(dir, 'source');
      const targetRoot = join(dir, 'target');
      await mkdir(sourceRoot);
      await mkdir(targetRoot);
      await writeFile(join(sourceRoot, 'a.txt'), 'hello');
      const source = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'Source', options: { root: sourceRoot } })
          .expect(201)
      ).body as { id: string };
      const target = (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name: 'Target', options: { root: targetRoot } })
          .expect(201)
      ).body as { id: string };
      const task = await t.http.post('/api/tasks').send({
        name: 'Docs',
        sourceAccountId: source.id,
        targetAccountId: target.id,
        filter: { mode: 'include', extensions: 'txt' },
        schedule: { kind: 'monthly', dayOfMonth: 31, time: '02:00', timezone: 'Europe/Paris' },
        verify: {
          readPercent: 10,
          schedule: { kind: 'weekly', weekdays: ['sun'], time: '03:00', timezone: 'UTC' },
        },
      });
      if (task.status !== 201) throw new Error(`task: ${task.status} ${JSON.stringify(task.body)}`);
      const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id);
      expect(run.status).toBe('completed');

      const answers: Array<[string, string, unknown]> = [
        ['post', '/api/tasks', task.body],
        ['get', '/api/tasks/{id}', (await t.http.get(`/api/tasks/${task.body.id}`)).body],
        ['get', '/api/tasks', (await t.http.get('/api/tasks')).body],
        ['post', '/api/tasks/{id}/run', started.body],
        ['get', '/api/runs/{id}', run],
        ['get', '/api/runs', (await t.http.get('/api/runs')).body],
        ['get', '/api/versions/{id}', (await t.http.get(`/api/versions/${run.versionId}`)).body],
        [
          'get',
          '/api/tasks/{id}/versions',
          (await t.http.get(`/api/tasks/${task.body.id}/versions`)).body,
        ],
        ['get', '/api/accounts', (await t.http.get('/api/accounts')).body],
        ['get', '/api/dashboard', (await t.http.get('/api/dashboard')).body],
        ['get', '/api/dashboard/runs', (await t.http.get('/api/dashboard/runs')).body],
        ['get', '/api/auth/session', (await t.http.get('/api/auth/session')).body],
        ['get', '/api/runs/{id}/events', (await t.http.get(`/api/runs/${run.id}/events`)).body],
        [
          'get',
          '/api/versions/{id}/files',
          (await t.http.get(`/api/versions/${run.versionId}/files`)).body,
        ],
        [
          'get',
          '/api/versions/{id}/tree',
          (await t.http.get(`/api/versions/${run.versionId}/tree`)).body,
        ],
        ['get', '/api/users', (await t.http.get('/api/users')).body],
        ['post', '/api/tokens', (await t.http.post('/api/tokens').send({ name: 'x' })).body],
        ['get', '/api/tokens', (await t.http.get('/api/tokens')).body],
        [
          'put',
          '/api/tasks/{id}/retention',
          (await t.http.put(`/api/tasks/${task.body.id}/retention`).send({ keepLast: 3 })).body,
        ],
        [
          'get',
          '/api/tasks/{id}/prune/preview',
          (await t.http.get(`/api/tasks/${task.body.id}/prune/preview?keepLast=1`)).body,
        ],
        [
          'get',
          '/api/schedules/preview',
          (
            await t.http.get(
              '/api/schedules/preview?kind=monthly&dayOfMonth=31&time=02:00&timezone=UTC',
            )
          ).body,
        ],
      ];
      answers.push(['get', '/api/connectors', (await t.http.get('/api/connectors')).body]);
      answers.push(['get', '/api/settings/smtp', (await t.http.get('/api/settings/smtp')).body]);
      const verify = await t.http
        .post(`/api/tasks/${task.body.id}/verify`)
        .send({ readPercent: 100 })
        .expect(202);
      answers.push(['post', '/api/tasks/{id}/verify', verify.body]);
      answers.push(['get', '/api/runs/{id}', await waitForRun(t.http, verify.body.id)]);
      const problems = answers.flatMap(([m, p, body]) => {
        const schema = successSchema(doc, m, p);
        if (!schema) return [`${m.toUpperCase()} ${p}: no documented schema`];
        return undocumented(doc, body, schema, 'body').map(
          (where) => `${m.toUpperCase()} ${p}: ${where}`,
        );
      });
      expect(problems).toEqual([]);
    });
  });
});
