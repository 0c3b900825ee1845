import { mkdir, readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import request from 'supertest';
import { patternBytes, writeTree } from '../support/files.js';
import {
  startTestApp,
  TEST_ADMIN,
  waitForRun,
  type Http,
  type TestApp,
} from '../support/test-app.js';

/** Routes anyone may call; every other API route must answer 401 without a session. */
const PUBLIC_ROUTES = new Set([
  'GET /api/health',
  // Probes for a load balancer or an orchestrator: they say whether the engine is up and ready,
  // never what it holds.
  'GET /api/health/live',
  'GET /api/health/ready',
  'GET /api/auth/session',
  'POST /api/auth/setup',
  'POST /api/auth/login',
]);

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private add(level: string, args: unknown[]) {
    this.lines.push(
      `${level} ${args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ')}`,
    );
  }
  log(...a: unknown[]) {
    this.add('log', a);
  }
  error(...a: unknown[]) {
    this.add('error', a);
  }
  warn(...a: unknown[]) {
    this.add('warn', a);
  }
  debug(...a: unknown[]) {
    this.add('debug', a);
  }
  verbose(...a: unknown[]) {
    this.add('verbose', a);
  }
}

const sessionCookie = (res: request.Response): string => {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const c = raw?.find((x) => x.startsWith('cbe_session='));
  if (!c) throw new Error(`no session cookie in ${JSON.stringify(raw)}`);
  return c;
};

describe('sign-in and the security of the API', () => {
  let t: TestApp;
  const logger = new CapturingLogger();
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cbe-sec-'));
    // Local accounts' folders must exist (the engine never creates a missing root).
    for (const d of ['dst', 'bob', 'tok']) await mkdir(join(root, d));
    // The admin grants users this folder for local accounts (README "Security").
    t = await startTestApp({ logger, env: { LOCAL_ROOTS: root } });
    await writeTree(join(root, 'src'), {
      'a.jpg': patternBytes(10_000, 1),
      'b/c.jpg': patternBytes(20_000, 2),
    });
  });

  afterAll(async () => {
    await t?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should answer 401 on every API route without a session, except the public ones', async () => {
    const doc = (await t.http.get('/api/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({
        method: m.toUpperCase(),
        path: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'),
        key: `${m.toUpperCase()} ${path}`,
      })),
    );
    // Sanity: the document lists the whole API, not a few routes.
    expect(routes.length).toBeGreaterThan(40);
    const open: string[] = [];
    for (const r of routes) {
      const res = await t.anon[r.method.toLowerCase() as 'get'](r.path).send({});
      if (PUBLIC_ROUTES.has(r.key)) {
        expect(res.status).not.toBe(401);
        continue;
      }
      if (res.status !== 401) open.push(`${r.key} -> ${res.status}`);
      else expect(res.body).toMatchObject({ statusCode: 401, message: 'sign in required' });
    }
    expect(open).toEqual([]);
    // The documentation itself is not public either.
    await t.anon.get('/api/docs/openapi.json').expect(401);
    // An unknown bearer token is refused, not ignored.
    const res = await t.anon
      .get('/api/accounts')
      .set('Authorization', 'Bearer cbe_nope')
      .expect(401);
    expect(res.body.message).toMatch(/API token/);
  });

  it('should set the session cookie HttpOnly, SameSite=Lax, Path=/, and not Secure over plain http', async () => {
    const res = await t.anon.post('/api/auth/login').send(TEST_ADMIN).expect(200);
    const c = sessionCookie(res);
    expect(c).toMatch(/; HttpOnly/i);
    expect(c).toMatch(/; SameSite=Lax/i);
    expect(c).toMatch(/; Path=\//i);
    expect(c).not.toMatch(/; Secure/i);
    expect(res.body.csrfToken).toEqual(expect.any(String));
    expect(JSON.stringify(res.body)).not.toContain(c.split(';')[0]!.split('=')[1]!);
  });

  it('should answer 403 for a state-changing request with a session cookie but no or a wrong CSRF token', async () => {
    const login = await t.anon.post('/api/auth/login').send(TEST_ADMIN).expect(200);
    const cookie = sessionCookie(login).split(';')[0]!;
    const body = { kind: 'local', name: 'x', options: { root: join(root, 'src') } };
    let res = await t.anon.post('/api/accounts').set('Cookie', cookie).send(body).expect(403);
    expect(res.body.message).toMatch(/CSRF token missing or wrong/);
    await t.anon
      .post('/api/accounts')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', 'forged')
      .send(body)
      .expect(403);
    await t.anon.delete('/api/accounts/whatever').set('Cookie', cookie).expect(403);
    // Reading needs no token; the right token lets the write through.
    await t.anon.get('/api/accounts').set('Cookie', cookie).expect(200);
    res = await t.anon
      .post('/api/accounts')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', login.body.csrfToken as string)
      .send(body)
      .expect(201);
    await t.http.delete(`/api/accounts/${res.body.id}`).expect(204);
  });

  it('should only redirect to a local path after signing in', async () => {
    const next = async (n: string) =>
      (
        await t.anon
          .post('/api/auth/login')
          .send({ ...TEST_ADMIN, next: n })
          .expect(200)
      ).body.redirect as string;
    expect(await next('/#/tasks/abc?x=1')).toBe('/#/tasks/abc?x=1');
    expect(await next('//evil.example/')).toBe('/');
    expect(await next('/\\evil.example/')).toBe('/');
    expect(await next('https://evil.example/')).toBe('/');
    expect(await next('javascript:alert(1)')).toBe('/');
    expect(await next('/%0d%0aSet-Cookie:x')).toBe('/%0d%0aSet-Cookie:x');
  });

  it('should throttle failed sign-ins with 429 and Retry-After, even for the right password', async () => {
    await t.http
      .post('/api/users')
      .send({ username: 'carol', password: 'carol-password-1', role: 'user' })
      .expect(201);
    for (let i = 0; i < 4; i++) {
      const res = await t.anon
        .post('/api/auth/login')
        .send({ username: 'carol', password: `wrong-${i}` })
        .expect(401);
      expect(res.body.message).toBe('wrong username or password');
    }
    const locked = await t.anon
      .post('/api/auth/login')
      .send({ username: 'carol', password: 'wrong-5' })
      .expect(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.body.message).toMatch(/too many failed sign-ins/);
    await t.anon
      .post('/api/auth/login')
      .send({ username: 'carol', password: 'carol-password-1' })
      .expect(429);
    // Another user from the same address is not locked out by carol's attacker.
    await t.anon.post('/api/auth/login').send(TEST_ADMIN).expect(200);
    // An unknown name answers exactly like a wrong password.
    const unknown = await t.anon
      .post('/api/auth/login')
      .send({ username: 'nobody', password: 'whatever-1' })
      .expect(401);
    expect(unknown.body.message).toBe('wrong username or password');
  });

  describe('two users', () => {
    let bob: Http;
    const mine: Record<string, string> = {};

    beforeAll(async () => {
      const src = await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'Photos', options: { root: join(root, 'src') } })
        .expect(201);
      const dst = await t.http
        .post('/api/accounts')
        .send({ kind: 'local', name: 'Drive', options: { root: join(root, 'dst') } })
        .expect(201);
      const task = await t.http
        .post('/api/tasks')
        .send({
          name: 'admin task',
          sourceAccountId: src.body.id,
          sourcePath: '',
          targetAccountId: dst.body.id,
          targetPath: 'Backups',
        })
        .expect(201);
      const run = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      expect((await waitForRun(t.http, run.body.id as string)).status).toBe('completed');
      const versions = await t.http.get(`/api/tasks/${task.body.id}/versions`).expect(200);
      Object.assign(mine, {
        account: src.body.id,
        target: dst.body.id,
        task: task.body.id,
        run: run.body.id,
        version: versions.body[0].id,
      });
      await t.http
        .post('/api/users')
        .send({ username: 'bob', password: 'bob-password-1', role: 'user' })
        .expect(201);
      bob = await t.signIn('bob', 'bob-password-1');
    });

    it("should show a user none of another user's accounts, tasks, runs or versions", async () => {
      expect((await bob.get('/api/accounts').expect(200)).body).toEqual([]);
      expect((await bob.get('/api/tasks').expect(200)).body).toEqual([]);
      expect((await bob.get('/api/runs').expect(200)).body).toEqual([]);
      // The owner still sees everything.
      expect((await t.http.get('/api/accounts').expect(200)).body).toHaveLength(2);
      expect((await t.http.get('/api/runs').expect(200)).body).toHaveLength(1);
    });

    it("should answer 404 for every request naming another user's object", async () => {
      const { account, task, run, version } = mine;
      const probes: Array<[string, string, unknown?]> = [
        ['get', `/api/accounts/${account}`],
        ['patch', `/api/accounts/${account}`, { name: 'mine now' }],
        ['delete', `/api/accounts/${account}`],
        ['get', `/api/accounts/${account}/browse`],
        ['post', `/api/accounts/${account}/icloud/code`, { code: '123456' }],
        ['get', `/api/tasks/${task}`],
        ['patch', `/api/tasks/${task}`, { name: 'x' }],
        ['delete', `/api/tasks/${task}`],
        ['post', `/api/tasks/${task}/run`],
        ['get', `/api/tasks/${task}/versions`],
        ['put', `/api/tasks/${task}/retention`, { keepLast: 1 }],
        ['post', `/api/tasks/${task}/prune`],
        ['get', `/api/runs?taskId=${task}`],
        ['get', `/api/runs/${run}`],
        ['get', `/api/runs/${run}/events`],
        ['get', `/api/runs/${run}/stream`],
        ['post', `/api/runs/${run}/cancel`],
        ['get', `/api/versions/${version}`],
        ['get', `/api/versions/${version}/files`],
        ['get', `/api/versions/${version}/tree`],
        ['get', `/api/versions/${version}/diff?against=${version}`],
        ['post', `/api/versions/${version}/restore`, {}],
      ];
      const leaks: string[] = [];
      for (const [method, path, body] of probes) {
        const req = bob[method as 'get'](path);
        const res = body === undefined ? await req : await req.send(body as object);
        if (res.status !== 404) leaks.push(`${method.toUpperCase()} ${path} -> ${res.status}`);
      }
      expect(leaks).toEqual([]);
      // Nothing was changed by those attempts.
      const a = await t.http.get(`/api/accounts/${account}`).expect(200);
      expect(a.body.name).toBe('Photos');
      await t.http.get(`/api/tasks/${task}`).expect(200);
    });

    it("should refuse another user's account in a task or as a restore destination, as if unknown", async () => {
      const own = await bob
        .post('/api/accounts')
        .send({ kind: 'local', name: 'Bob disk', options: { root: join(root, 'bob') } })
        .expect(201);
      const res = await bob
        .post('/api/tasks')
        .send({
          name: 'steal',
          sourceAccountId: mine.account,
          sourcePath: '',
          targetAccountId: own.body.id,
          targetPath: '',
        })
        .expect(400);
      expect(res.body.problems).toEqual([
        `sourceAccountId '${mine.account}' does not name an account`,
      ]);
      const imp = await bob
        .post('/api/ledger/import')
        .send({ sourceAccountId: own.body.id, targetAccountId: mine.target, targetPath: 'Backups' })
        .expect(400);
      expect(imp.body.message).toContain(
        `targetAccountId '${mine.target}' does not name an account`,
      );
      // The admin cannot restore into bob's account either.
      const r = await t.http
        .post(`/api/versions/${mine.version}/restore`)
        .send({ destination: { accountId: own.body.id, path: '' } })
        .expect(400);
      expect(r.body.message).toContain('does not name an account');
      await bob.delete(`/api/accounts/${own.body.id}`).expect(204);
    });

    it('should keep user management and SMTP settings to admins', async () => {
      await bob.get('/api/users').expect(403);
      await bob
        .post('/api/users')
        .send({ username: 'eve', password: 'eve-password', role: 'admin' })
        .expect(403);
      await bob.get('/api/settings/smtp').expect(403);
      const users = (await t.http.get('/api/users').expect(200)).body as Array<{
        username: string;
      }>;
      expect(users.map((u) => u.username)).toEqual(['admin', 'carol', 'bob']);
      expect(JSON.stringify(users)).not.toMatch(/password|scrypt/i);
      const session = await bob.get('/api/auth/session').expect(200);
      expect(session.body.user).toMatchObject({ username: 'bob', role: 'user' });
    });

    it('should refuse to delete a user who still owns backups, and the admin themself', async () => {
      const users = (await t.http.get('/api/users').expect(200)).body as Array<{
        id: string;
        username: string;
      }>;
      const admin = users.find((u) => u.username === 'admin')!;
      await t.http.delete(`/api/users/${admin.id}`).expect(409);
      const carol = users.find((u) => u.username === 'carol')!;
      await t.http.delete(`/api/users/${carol.id}`).expect(204);
      await t.http.delete(`/api/users/${carol.id}`).expect(404);
    });

    it('should let scripts use an API token without CSRF, shown once, and revocable', async () => {
      const created = await bob.post('/api/tokens').send({ name: 'nightly' }).expect(201);
      const token = created.body.token as string;
      expect(token).toMatch(/^cbe_/);
      const list = await bob.get('/api/tokens').expect(200);
      expect(JSON.stringify(list.body)).not.toContain(token);
      expect(list.body).toEqual([expect.objectContaining({ name: 'nightly' })]);
      await t.anon
        .post('/api/accounts')
        .set('Authorization', `Bearer ${token}`)
        .send({ kind: 'local', name: 'via token', options: { root: join(root, 'tok') } })
        .expect(201);
      // The token acts for bob: it sees bob's account only.
      const seen = await t.anon
        .get('/api/accounts')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(seen.body.map((a: { name: string }) => a.name)).toEqual(['via token']);
      // Another user cannot revoke it.
      await t.http.delete(`/api/tokens/${created.body.id}`).expect(404);
      await bob.delete(`/api/tokens/${created.body.id}`).expect(204);
      await t.anon.get('/api/accounts').set('Authorization', `Bearer ${token}`).expect(401);
    });

    it('should sign out: the old cookie no longer works', async () => {
      const other = await t.signIn('bob', 'bob-password-1');
      await other.post('/api/auth/logout').expect(204);
      await other.get('/api/accounts').expect(401);
      // bob's first session is untouched.
      await bob.get('/api/accounts').expect(200);
    });

    it('should change a password and sign out the other sessions', async () => {
      const second = await t.signIn('bob', 'bob-password-1');
      await bob
        .post('/api/auth/password')
        .send({ currentPassword: 'wrong-password', newPassword: 'bob-password-2' })
        .expect(400);
      await bob
        .post('/api/auth/password')
        .send({ currentPassword: 'bob-password-1', newPassword: 'bob-password-2' })
        .expect(204);
      await second.get('/api/accounts').expect(401);
      await bob.get('/api/accounts').expect(200);
      await t.anon
        .post('/api/auth/login')
        .send({ username: 'bob', password: 'bob-password-2' })
        .expect(200);
    });
  });

  it('should keep secrets out of responses, logs and the database file', async () => {
    const secrets = {
      webdav: 'WebDavSecret-7f3a9c1e',
      sftp: 'SftpSecret-4b8d2e6f',
      userPassword: 'dave-password-9e1c',
    };
    const acc = await t.http
      .post('/api/accounts')
      .send({
        kind: 'webdav',
        name: 'NAS',
        options: { url: 'http://127.0.0.1:9/dav/', username: 'u', password: secrets.webdav },
      })
      .expect(201);
    const sftp = await t.http
      .post('/api/accounts')
      .send({
        kind: 'sftp',
        name: 'Box',
        options: { host: '127.0.0.1', port: 9, username: 'u', password: secrets.sftp },
      })
      .expect(201);
    await t.http.patch(`/api/accounts/${acc.body.id}`).send({ name: 'NAS 2' }).expect(200);
    await t.http
      .post('/api/users')
      .send({ username: 'dave', password: secrets.userPassword, role: 'user' })
      .expect(201);
    const dave = await t.anon
      .post('/api/auth/login')
      .send({ username: 'dave', password: secrets.userPassword })
      .expect(200);
    const daveSession = sessionCookie(dave).split(';')[0]!.split('=')[1]!;
    const token = (await t.http.post('/api/tokens').send({ name: 'leak check' }).expect(201)).body
      .token as string;
    // A failed sign-in with a password-like string must not log it.
    await t.anon
      .post('/api/auth/login')
      .send({ username: 'dave', password: 'TypoedPassword-31337' })
      .expect(401);
    // Browsing a WebDAV server that is not there fails; the failure must not show the password.
    await t.http.get(`/api/accounts/${acc.body.id}/browse`);

    const responses = [
      await t.http.get('/api/accounts'),
      await t.http.get(`/api/accounts/${acc.body.id}`),
      await t.http.get(`/api/accounts/${sftp.body.id}`),
      await t.http.get('/api/users'),
      await t.http.get('/api/tokens'),
      await t.http.get('/api/auth/session'),
    ].map((r) => JSON.stringify(r.body));
    const everything = [
      secrets.webdav,
      secrets.sftp,
      secrets.userPassword,
      'TypoedPassword-31337',
      daveSession,
      token,
      TEST_ADMIN.password,
    ];
    for (const body of responses) for (const s of everything) expect(body).not.toContain(s);
    const log = logger.lines.join('\n');
    expect(log).toContain('failed sign-in'); // the log is captured at all
    for (const s of everything) expect(log).not.toContain(s);

    // The SQLite database, its WAL and anything else in the data folder: plain bytes.
    const files = (await readdir(t.dataDir)).filter((f) => f.startsWith('backup.sqlite'));
    expect(files).toContain('backup.sqlite');
    for (const f of files) {
      const bytes = await readFile(join(t.dataDir, f));
      for (const s of everything) expect(bytes.includes(Buffer.from(s))).toBe(false);
    }
  });
});

describe('first start without a configured admin', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_USERNAME: '', ADMIN_PASSWORD: '' } });
  });
  afterAll(() => t?.close());

  it('should ask for the admin, refuse everything else, and create it once', async () => {
    // On loopback (as here) no setup token is asked: test/e2e/attacker.e2e-spec.ts listens wider.
    expect((await t.anon.get('/api/auth/session').expect(200)).body).toEqual({
      setupRequired: true,
      setupTokenRequired: false,
      user: null,
      csrfToken: null,
    });
    await t.anon.get('/api/accounts').expect(401);
    await t.anon
      .post('/api/auth/login')
      .send({ username: 'root', password: 'root-password' })
      .expect(401);
    const bad = await t.anon
      .post('/api/auth/setup')
      .send({ username: 'no spaces', password: 'short' })
      .expect(400);
    expect(bad.body.problems).toEqual([
      'username: must be 1-64 letters, digits, or . _ @ -',
      'password: must be at least 8 characters',
    ]);
    const agent = request.agent(t.app.getHttpServer());
    const res = await agent
      .post('/api/auth/setup')
      .send({ username: 'root', password: 'root-password' })
      .expect(201);
    expect(res.body.user).toMatchObject({ username: 'root', role: 'admin' });
    await agent.get('/api/accounts').expect(200);
    await t.anon
      .post('/api/auth/setup')
      .send({ username: 'other', password: 'other-password' })
      .expect(409);
    const session = await agent.get('/api/auth/session').expect(200);
    expect(session.body).toMatchObject({ setupRequired: false, user: { username: 'root' } });
    expect(session.body.csrfToken).toBe(res.body.csrfToken);
  });
});

describe('behind a TLS-terminating proxy', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t?.close());

  it('should mark the session cookie Secure when the proxy says the request came over https', async () => {
    const res = await t.anon
      .post('/api/auth/login')
      .set('X-Forwarded-Proto', 'https')
      .send(TEST_ADMIN)
      .expect(200);
    expect(sessionCookie(res)).toMatch(/; Secure/i);
  });
});
