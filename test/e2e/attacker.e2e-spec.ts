import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import { patternBytes, writeTree } from '../support/files.js';
import { buildEngine, startEngine, type EngineProcess } from '../support/engine-process.js';
import { startTestApp, waitForRun, type Http, type TestApp } from '../support/test-app.js';

/**
 * Issue 19: what a non-admin user tried against a running engine, each attempt asserting the
 * refusal. "mallory" is a plain user; the admin is the test app's. Every address she aims the
 * engine at is a listener on 127.0.0.1 that must receive nothing.
 */

/** An HTTP server on 127.0.0.1 that records every request (and answers 200 with a body). */
async function startListener(host = '127.0.0.1'): Promise<{
  url: string;
  port: number;
  seen: Array<{ method?: string; url?: string; body: string }>;
  stop(): Promise<void>;
}> {
  const seen: Array<{ method?: string; url?: string; body: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"internal-secret-answer","token_type":"bearer"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    seen,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A sign-in whose body never finishes arriving: it stays in flight until the socket closes. */
async function hangingSignIn(baseUrl: string, forwardedFor: string): Promise<Socket> {
  const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `X-Forwarded-For: ${forwardedFor}\r\nContent-Length: 1000\r\n\r\n{"username":`,
  );
  return socket;
}

const problemsOf = (res: { body: { problems?: string[]; message?: string } }) =>
  (res.body.problems ?? [res.body.message ?? '']).join(' | ');

describe('an attacker with a plain user account', () => {
  let t: TestApp;
  let mallory: Http;
  let listener: Awaited<ReturnType<typeof startListener>>;
  let grants: string;
  let outside: string;

  beforeAll(async () => {
    grants = await mkdtemp(join(tmpdir(), 'cbe-grants-'));
    outside = await mkdtemp(join(tmpdir(), 'cbe-outside-'));
    listener = await startListener();
    t = await startTestApp({
      listen: 0,
      env: {
        // Tests reach the engine through 127.0.0.1 with X-Forwarded-For naming other addresses.
        TRUST_PROXY: 'loopback',
        DROPBOX_APP_KEY: 'operator-app-key',
        DROPBOX_APP_SECRET: 'operator-app-secret',
        GOOGLE_DRIVE_CLIENT_ID: 'operator-drive-id',
        GOOGLE_DRIVE_CLIENT_SECRET: 'operator-drive-secret',
        ONEDRIVE_CLIENT_ID: 'operator-onedrive-id',
        ONEDRIVE_CLIENT_SECRET: 'operator-onedrive-secret',
      },
    });
    await t.http
      .post('/api/users')
      .send({ username: 'mallory', password: 'mallory-password-1', role: 'user' })
      .expect(201);
    await t.http
      .post('/api/users')
      .send({ username: 'bob', password: 'bob-password-1', role: 'user' })
      .expect(201);
    mallory = await t.signIn('mallory', 'mallory-password-1');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await listener?.stop();
    await rm(grants, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const local = (http: Http, root: string, name = 'drive') =>
    http.post('/api/accounts').send({ kind: 'local', name, options: { root, fsync: false } });

  describe('local folders are an admin grant', () => {
    it('should refuse a user any local folder while the admin granted none', async () => {
      for (const root of ['/', '/etc', t.dataDir, outside]) {
        const res = await local(mallory, root).expect(400);
        expect(problemsOf(res)).toMatch(/options\.root/);
      }
    });

    it("should refuse everyone, admins too, the engine's data folder, key and database", async () => {
      for (const root of [t.dataDir, join(t.dataDir, 'sub'), '/']) {
        const res = await local(t.http, root).expect(400);
        expect(problemsOf(res)).toMatch(/options\.root: .*engine's own files/);
      }
      // Anything else is the admin's to choose on a single-user install.
      await local(t.http, outside).expect(201);
    });

    it("should let a user use only their own granted folder, not another user's", async () => {
      await t.http
        .put('/api/settings/local-roots')
        .send({ roots: [join(grants, '{user}')] })
        .expect(200);
      await mallory
        .put('/api/settings/local-roots')
        .send({ roots: ['/'] })
        .expect(403);
      await mkdir(join(grants, 'mallory', 'src'), { recursive: true });
      await mkdir(join(grants, 'bob'), { recursive: true });
      await local(mallory, join(grants, 'mallory', 'src')).expect(201);
      const theirs = await local(mallory, join(grants, 'bob')).expect(400);
      expect(problemsOf(theirs)).toMatch(/outside the folders an admin granted you/);
      // '..' does not walk out of the grant either.
      await local(mallory, join(grants, 'mallory', '..', 'bob')).expect(400);
      // A symlink inside her grant that points at bob's folder is resolved first.
      await symlink(join(grants, 'bob'), join(grants, 'mallory', 'to-bob'));
      await local(mallory, join(grants, 'mallory', 'to-bob')).expect(400);
    });

    it("should refuse moving an account's folder outside the grant", async () => {
      const id = (
        (await local(mallory, join(grants, 'mallory', 'src'), 'movable').expect(201)).body as {
          id: string;
        }
      ).id;
      const res = await mallory
        .patch(`/api/accounts/${id}`)
        .send({ options: { root: '/etc' } })
        .expect(400);
      expect(problemsOf(res)).toMatch(/options\.root/);
    });

    it('should neither list, read, back up nor restore through symlinks that leave the folder', async () => {
      const mine = join(grants, 'mallory', 'backup-src');
      await writeTree(mine, { 'photo.jpg': patternBytes(5_000, 3) });
      await symlink('/etc', join(mine, 'etc'));
      await symlink(t.dataDir, join(mine, 'engine-data'));
      const src = (await local(mallory, mine, 'src').expect(201)).body as { id: string };
      const dstRoot = join(grants, 'mallory', 'backup-dst');
      await mkdir(dstRoot, { recursive: true });
      const dst = (await local(mallory, dstRoot, 'dst').expect(201)).body as { id: string };

      const listing = (await mallory.get(`/api/accounts/${src.id}/browse`).expect(200))
        .body as Array<{ name: string }>;
      expect(listing.map((e) => e.name)).toEqual(['photo.jpg']);
      const through = await mallory
        .get(`/api/accounts/${src.id}/browse`)
        .query({ path: 'engine-data' });
      expect(through.status).toBe(400);
      expect(JSON.stringify(through.body)).not.toMatch(/secret\.key|backup\.sqlite/);

      const task = (
        await mallory
          .post('/api/tasks')
          .send({ name: 'grab', sourceAccountId: src.id, targetAccountId: dst.id, targetPath: 'b' })
          .expect(201)
      ).body as { id: string };
      const run = (await mallory.post(`/api/tasks/${task.id}/run`).expect(202)).body as {
        id: string;
      };
      const done = await waitForRun(mallory, run.id);
      expect(done.filesCopied).toBe(1);
      const copied = await readdir(join(dstRoot, 'b'), { recursive: true });
      expect(copied.filter((f) => /secret\.key|backup\.sqlite|passwd/.test(f))).toEqual([]);

      // A restore into a folder of hers that is a link to somewhere else writes nothing there.
      await symlink(outside, join(dstRoot, 'escape'));
      const versionId = done.versionId!;
      const restore = (
        await mallory
          .post(`/api/versions/${versionId}/restore`)
          .send({ destination: { accountId: dst.id, path: 'escape' }, conflict: 'overwrite' })
          .expect(202)
      ).body as { id: string };
      const restored = await waitForRun(mallory, restore.id);
      expect(restored.filesCopied).toBe(0);
      // Only the volume marker the admin's account on this folder wrote earlier (issue 18).
      expect((await readdir(outside)).filter((n) => n !== '.cbe-volume')).toEqual([]);
    }, 60_000);

    it('should refuse a NUL character in a folder, a name or a path, naming the field', async () => {
      const nul = await local(mallory, `${join(grants, 'mallory')}\u0000/etc`).expect(400);
      expect(problemsOf(nul)).toMatch(/options\.root: .*NUL/);
      const name = await mallory
        .post('/api/accounts')
        .send({ kind: 'local', name: 'a\u0000b', options: { root: join(grants, 'mallory') } })
        .expect(400);
      expect(problemsOf(name)).toMatch(/^name: .*NUL/);
      const browse = await mallory.get('/api/accounts/x/browse').query({ path: 'a\u0000b' });
      expect(browse.status).toBe(400);
      expect(problemsOf(browse)).toMatch(/path: .*NUL/);
    });
  });

  describe("the operator's secrets and internal addresses", () => {
    it("should refuse a user's endpoint overrides, so the app secret never reaches their listener", async () => {
      const attempts: Array<{ kind: string; options: Record<string, string>; field: string }> = [
        { kind: 'dropbox', options: { apiBaseUrl: listener.url }, field: 'apiBaseUrl' },
        { kind: 'google-drive', options: { tokenUrl: `${listener.url}/token` }, field: 'tokenUrl' },
        {
          kind: 'onedrive',
          options: { authorityBaseUrl: listener.url },
          field: 'authorityBaseUrl',
        },
      ];
      for (const a of attempts) {
        const res = await mallory
          .post('/api/accounts/connect')
          .send({ kind: a.kind, name: 'mine', options: a.options })
          .expect(400);
        expect(problemsOf(res)).toMatch(new RegExp(`options\\.${a.field}: only an admin`));
        // Nor on an account created with tokens of her own.
        const direct = await mallory.post('/api/accounts').send({
          kind: a.kind,
          name: 'mine',
          options: { clientId: 'x', clientSecret: 'z', refreshToken: 'y', ...a.options },
        });
        expect(direct.status).toBe(400);
        expect(problemsOf(direct)).toMatch(new RegExp(`options\\.${a.field}`));
      }
      // Without overrides the operator's app works for her.
      await mallory
        .post('/api/accounts/connect')
        .send({ kind: 'dropbox', name: 'mine' })
        .expect(200);
      expect(listener.seen).toEqual([]);
    });

    it('should refuse servers and webhooks on loopback, link-local and private addresses', async () => {
      const tries: Array<{ kind: string; options: Record<string, unknown>; field: string }> = [
        {
          kind: 'webdav',
          options: { url: `${listener.url}/dav`, username: 'u', password: 'p' },
          field: 'url',
        },
        {
          kind: 'webdav',
          options: { url: `http://localhost:${listener.port}/dav`, username: 'u', password: 'p' },
          field: 'url',
        },
        {
          kind: 's3',
          options: {
            endpoint: 'http://169.254.169.254',
            bucket: 'b',
            accessKeyId: 'k',
            secretAccessKey: 's',
          },
          field: 'endpoint',
        },
        {
          kind: 'sftp',
          options: { host: '127.0.0.1', port: listener.port, username: 'u', password: 'p' },
          field: 'host',
        },
        {
          kind: 'sftp',
          options: { host: '10.0.0.1', username: 'u', password: 'p' },
          field: 'host',
        },
      ];
      for (const x of tries) {
        const res = await mallory
          .post('/api/accounts')
          .send({ kind: x.kind, name: 'inside', options: x.options });
        expect([x.kind, res.status]).toEqual([x.kind, 400]);
        expect(problemsOf(res)).toMatch(new RegExp(`options\\.${x.field}: .*(private|loopback)`));
      }
      const a = (await local(mallory, join(grants, 'mallory', 'src'), 'hooked').expect(201))
        .body as { id: string };
      for (const url of [`${listener.url}/hook`, 'http://169.254.169.254/latest/meta-data/']) {
        const hook = await mallory
          .post('/api/tasks')
          .send({
            name: 'hook',
            sourceAccountId: a.id,
            targetAccountId: a.id,
            targetPath: 'x',
            notifications: { webhookUrl: url },
          })
          .expect(400);
        expect(problemsOf(hook)).toMatch(/notifications\.webhookUrl/);
      }
      expect(listener.seen).toEqual([]);
    });
  });

  describe('mail, headers and parsing', () => {
    it('should refuse more than 20 notification recipients, naming the field', async () => {
      const a = (await local(mallory, join(grants, 'mallory', 'src'), 'mailer').expect(201))
        .body as { id: string };
      const emails = Array.from({ length: 21 }, (_, i) => `victim${i}@example.com`);
      const res = await mallory
        .post('/api/tasks')
        .send({
          name: 'spam',
          sourceAccountId: a.id,
          targetAccountId: a.id,
          targetPath: 'x',
          notifications: { emails, on: 'always' },
        })
        .expect(400);
      expect(problemsOf(res)).toMatch(/notifications\.emails must hold at most 20 recipients/);
    });

    it('should send security headers and no X-Powered-By', async () => {
      const res = await t.anon.get('/api/health').expect(200);
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('should hold every spelling Express routes to the sign-in to the in-flight limit', async () => {
      const from = '198.51.100.99';
      const spelled = () =>
        fetch(`${t.baseUrl}/API/Auth/Login/?x=1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
          body: JSON.stringify({ username: 'mallory', password: 'wrong-password' }),
        });
      // Express routes it to the sign-in (case-insensitive, one trailing slash)...
      expect((await spelled()).status).toBe(401);
      // ...so it waits its turn like '/api/auth/login' (before: it went past the limit).
      const hanging = await Promise.all([1, 2, 3, 4].map(() => hangingSignIn(t.baseUrl!, from)));
      try {
        await new Promise((r) => setTimeout(r, 200)); // all four reached the engine
        const res = await spelled();
        expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([
          429,
          expect.stringMatching(/too many sign-ins at once/),
        ]);
      } finally {
        for (const s of hanging) s.destroy();
      }
    });

    it('should take sign-in as JSON only and redirect only on this site', async () => {
      await t.anon
        .post('/api/auth/login')
        .type('form')
        .send({ username: 'mallory', password: 'mallory-password-1' })
        .expect(415);
      await t.anon
        .post('/api/auth/login')
        .set('content-type', 'text/plain')
        .send(JSON.stringify({ username: 'mallory', password: 'mallory-password-1' }))
        .expect(415);
      for (const next of ['/..//evil.example', '/./..//evil.example/x', '/%2e%2e//evil.example']) {
        const res = await t.anon
          .post('/api/auth/login')
          .set('x-forwarded-for', '198.51.100.77')
          .send({ username: 'mallory', password: 'mallory-password-1', next })
          .expect(200);
        expect([next, res.body.redirect]).not.toEqual([next, expect.stringMatching(/^\/\//)]);
        expect(res.body.redirect).not.toMatch(/evil/);
      }
    });

    it('should answer deeply nested JSON with 400, not 500', async () => {
      const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const res = await mallory
        .post('/api/tasks')
        .set('content-type', 'application/json')
        .send(`{"name":"x","sourceAccountId":"a","targetAccountId":"b","filter":${deep}}`);
      expect(res.status).toBe(400);
    });

    it('should keep the database and key files 0600 although DATA_DIR existed', async () => {
      for (const f of ['backup.sqlite', 'secret.key']) {
        expect([f, (await stat(join(t.dataDir, f))).mode & 0o777]).toEqual([f, 0o600]);
      }
    });
  });
});

/**
 * 300 concurrent wrong passwords for 'admin' from one address, sent by a child process: the
 * attacker's own client work must not slow down this process, which measures /api/health.
 */
async function floodFromAnotherProcess(
  base: string,
  n: number,
  address: string,
): Promise<number[]> {
  const script = `
    const statuses = await Promise.all(Array.from({ length: ${n} }, async (_, i) => {
      const r = await fetch(${JSON.stringify(base)} + '/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ${JSON.stringify(address)} },
        body: JSON.stringify({ username: 'admin', password: 'guess-' + i }),
      });
      await r.arrayBuffer();
      return r.status;
    }));
    process.stdout.write(JSON.stringify(statuses));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script,
  ]);
  return JSON.parse(stdout) as number[];
}

describe('an allow-listed address that redirects inside', () => {
  let t: TestApp;
  let inside: Awaited<ReturnType<typeof startListener>>;
  let redirector: Server;
  let redirectorUrl: string;

  beforeAll(async () => {
    // 127.0.0.2 is loopback too, and not on the allow list: the "internal service".
    inside = await startListener('127.0.0.2');
    redirector = createServer((req, res) => {
      req.resume();
      res.writeHead(302, { location: `${inside.url}${req.url ?? '/'}` });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    t = await startTestApp({ env: { OUTBOUND_ALLOW: '127.0.0.1' } });
    await t.http
      .post('/api/users')
      .send({ username: 'mallory', password: 'mallory-password-1', role: 'user' })
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await inside?.stop();
    await new Promise<void>((r) => redirector?.close(() => r()));
  });

  it('should check every connection, so a redirect to a refused address reaches nothing', async () => {
    const mallory = await t.signIn('mallory', 'mallory-password-1');
    const dav = {
      kind: 'webdav',
      name: 'nas',
      options: { url: `${redirectorUrl}/dav/`, username: 'u', password: 'p' },
    };
    // The admin's account follows the redirect (the WebDAV client does): the check is not moot.
    const admins = (await t.http.post('/api/accounts').send(dav).expect(201)).body as {
      id: string;
    };
    await t.http.get(`/api/accounts/${admins.id}/browse`);
    expect(inside.seen.length).toBeGreaterThan(0);
    inside.seen.length = 0;
    const hers = (await mallory.post('/api/accounts').send(dav).expect(201)).body as { id: string };
    const res = await mallory.get(`/api/accounts/${hers.id}/browse`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(inside.seen).toEqual([]);
  }, 60_000);
});

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...a: unknown[]) {
    this.lines.push(a.map(String).join(' '));
  }
  error() {}
  warn() {}
}

describe('a first start reachable from the network', () => {
  it('should create the first admin only with the setup token from the engine log', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cbe-first-'));
    // An old install left the data folder world-readable: the files are 0600 all the same.
    await writeFile(join(dataDir, 'backup.sqlite'), '', { mode: 0o644 });
    const logger = new CapturingLogger();
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '0.0.0.0' });
    const app = await createApp({ config, logger });
    await app.listen(0, '0.0.0.0');
    try {
      const port = (app.getHttpServer() as Server).address() as AddressInfo;
      const base = `http://127.0.0.1:${port.port}`;
      const post = (body: unknown) =>
        fetch(`${base}/api/auth/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const session = (await (await fetch(`${base}/api/auth/session`)).json()) as Record<
        string,
        unknown
      >;
      expect(session).toMatchObject({ setupRequired: true, setupTokenRequired: true });
      expect((await post({ username: 'eve', password: 'eve-password-1' })).status).toBe(403);
      expect(
        (await post({ username: 'eve', password: 'eve-password-1', setupToken: 'guess' })).status,
      ).toBe(403);
      const token = /setup token: (\S+)/.exec(logger.lines.join('\n'))?.[1];
      expect(token).toBeDefined();
      const ok = await post({ username: 'root', password: 'root-password-1', setupToken: token });
      expect(ok.status).toBe(201);
      expect((await stat(join(dataDir, 'backup.sqlite'))).mode & 0o777).toBe(0o600);
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * How long the main thread of process `pid` has waited for a core so far, in ms: the second field
 * of Linux's /proc/<pid>/schedstat (run-queue time, ns). 0 where there is no such file, so that
 * elsewhere the whole latency counts.
 */
function queuedMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

describe('a sign-in flood against an engine process', () => {
  let engine: EngineProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-flood-'));
    await buildEngine();
    // The flood comes from other processes in real life: the engine runs in its own here, so
    // the attacker's 300 clients do not share its event loop.
    engine = await startEngine({ DATA_DIR: join(dir, 'data'), TRUST_PROXY: 'loopback' });
  }, 300_000);

  afterAll(async () => {
    await engine?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("should answer every /api/health within 100 ms of its own event loop's time (time off the cores not counted) during 300 concurrent wrong passwords, and not lock the admin's other addresses out", async () => {
    const base = engine.baseUrl;
    let polling = true;
    // Each health check's time, and how long of it the engine's event loop waited for a core.
    const samples: Array<{ ms: number; queued: number }> = [];
    const pid = engine.child.pid!;
    const poll = (async () => {
      while (polling) {
        const q0 = queuedMs(pid);
        const t0 = performance.now();
        const r = await fetch(`${base}/api/health`);
        await r.arrayBuffer();
        samples.push({ ms: performance.now() - t0, queued: queuedMs(pid) - q0 });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    // Three floods from one address: the first while the address may still try (a few are
    // hashed), the next two once it is locked, when the throttle refuses every sign-in it sees
    // at once, with no hash to wait for.
    const floods: Array<{ statuses: number[]; ms: number }> = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const statuses = await floodFromAnotherProcess(base, 300, '203.0.113.66');
      floods.push({ statuses, ms: performance.now() - started });
    }
    polling = false;
    await poll;
    const count = (statuses: number[], s: number) => statuses.filter((x) => x === s).length;
    // The throttle decided before hashing: only the few allowed tries were checked at all.
    expect(count(floods[0]!.statuses, 401)).toBeLessThanOrEqual(5);
    expect(count(floods[0]!.statuses, 429)).toBeGreaterThanOrEqual(295);
    expect(floods.slice(1).map((f) => count(f.statuses, 429))).toEqual([300, 300]);
    for (const f of floods) expect(f.ms).toBeLessThan(20_000);
    // Every sample, not a percentile: a health check that waits behind a burst is the failure.
    // The engine is answerable for its event loop, not for a machine that keeps it off the
    // cores: a sample counts without the time its main thread waited in the run queue. Measured
    // (docs/benchmarks.md, "Sign-in flood", 2026-12-07): with the front door 33-56 ms so counted
    // (63-118 ms in all on a quiet machine; 188-223 ms in all, waits up to 186 ms, with four
    // busy loops on the 2 cores; CI once saw 213 ms in all); without it, sign-ins refused
    // inside Nest, 151-227 ms on a quiet machine.
    expect(samples.length).toBeGreaterThan(30);
    expect(Math.max(...samples.map((s) => s.ms - s.queued))).toBeLessThan(100);
    // The admin, from home, signs in.
    const home = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.20' },
      body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }),
    });
    expect(home.status).toBe(200);
  }, 180_000);
});

describe('a server the user named answers an error page', () => {
  let t: TestApp;
  let server: Server;
  let url: string;
  const SECRET = 'internal-secret-4711';

  beforeAll(async () => {
    // A "public" server (127.0.0.1 is allow-listed here) whose errors carry what it must not
    // hand out: an HTML page for WebDAV, an S3-style XML error for S3.
    server = createServer((req, res) => {
      req.resume();
      if ((req.url ?? '').startsWith('/page')) {
        // A web page where a WebDAV server should be: 200 with HTML instead of a multistatus.
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<html><body><p>Welcome</p><pre>${SECRET} at db.internal:5432</pre></body></html>`);
        return;
      }
      if ((req.url ?? '').startsWith('/dav')) {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(
          `<html><body><h1>Server error</h1><pre>${SECRET} at db.internal:5432</pre></body></html>`,
        );
        return;
      }
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>${SECRET} policy arn:aws:iam::1:role/x</Message></Error>`,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startTestApp({ env: { OUTBOUND_ALLOW: '127.0.0.1' } });
    await t.http
      .post('/api/users')
      .send({ username: 'mallory', password: 'mallory-password-1', role: 'user' })
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('should answer 502 naming the host and status, never echoing the body', async () => {
    const mallory = await t.signIn('mallory', 'mallory-password-1');
    const host = url.slice('http://'.length);
    for (const [account, status] of [
      [
        {
          kind: 'webdav',
          name: 'page',
          options: { url: `${url}/page/`, username: 'u', password: 'p' },
        },
        200,
      ],
      [
        {
          kind: 'webdav',
          name: 'nas',
          options: { url: `${url}/dav/`, username: 'u', password: 'p' },
        },
        500,
      ],
      [
        {
          kind: 's3',
          name: 'bucket',
          options: {
            endpoint: url,
            region: 'us-east-1',
            bucket: 'b',
            accessKeyId: 'AKIAEXAMPLE',
            secretAccessKey: 'secret-example',
            forcePathStyle: true,
          },
        },
        403,
      ],
    ] as const) {
      const created = await mallory.post('/api/accounts').send(account);
      expect(created.status).toBe(201);
      const res = await mallory.get(`/api/accounts/${created.body.id as string}/browse`);
      expect({ kind: account.kind, status: res.status }).toEqual({
        kind: account.kind,
        status: 502,
      });
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
      expect(JSON.stringify(res.body)).not.toMatch(/db\.internal|arn:aws|<html|<pre/);
      expect(res.body.message).toContain(host);
      expect(res.body.message).toContain(String(status));
    }
  }, 60_000);
});
