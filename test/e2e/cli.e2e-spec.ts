import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../emulators/dropbox/dropbox-emulator.js';
import { runCli, type CliIo } from '../../src/cli/cbe.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { createApiToken, ENGINE_ADMIN } from '../support/api-token.js';
import {
  api,
  BUILD_DIR,
  buildEngine,
  startEngine,
  type EngineProcess,
} from '../support/engine-process.js';
import { patternBytes, sha256, writeTree } from '../support/files.js';

interface Result {
  code: number;
  out: string;
  err: string;
}

describe('the cbe command line against a running engine', () => {
  let dir: string;
  let engine: EngineProcess;
  let token: string;
  let env: Record<string, string>;
  let taskId: string;
  let sourceId: string;
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 20; i++) files[`photos/p${i}.jpg`] = patternBytes(40_000 + i * 1000, i + 1);
  files['notes/a.txt'] = Buffer.from('hello');

  /** `cbe ...args` in this process, as a script would call it, with its output captured. */
  async function cbe(args: string[], stdin = '', extraEnv: Record<string, string> = {}) {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: { write: (t) => void (out += t), isTTY: false },
      err: { write: (t) => void (err += t) },
      readStdin: () => Promise.resolve(stdin),
      env: { ...env, ...extraEnv },
    };
    const code = await runCli(['node', 'cbe', ...args], io);
    return { code, out, err } satisfies Result;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-cli-'));
    await Promise.all([buildEngine(), writeTree(join(dir, 'src'), files)]);
    const dataDir = join(dir, 'data');
    engine = await startEngine({ DATA_DIR: dataDir });
    token = await createApiToken(engine.baseUrl);
    env = { CBE_URL: engine.baseUrl, CBE_TOKEN: token, DATA_DIR: dataDir };
    const src = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'source',
      options: { root: join(dir, 'src') },
    });
    sourceId = src.id;
    await mkdir(join(dir, 'dst')); // an account on a folder that does not exist is refused
    const dst = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'target',
      options: { root: join(dir, 'dst') },
    });
    const task = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/tasks', {
      name: 'cli task',
      sourceAccountId: src.id,
      targetAccountId: dst.id,
      targetPath: 'backups',
    });
    taskId = task.id;
    // Compiling the engine takes minutes on a busy machine.
  }, 600_000);

  afterAll(async () => {
    await engine?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('should print its commands and exit codes with --help from the built file', async () => {
    const script = `import(${JSON.stringify(pathToFileURL(join(BUILD_DIR, 'src/cli/cbe.js')).href)}).then(async (m) => { process.exitCode = await m.runCli(['node', 'cbe', ...process.argv.slice(1)]); })`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
      '--',
      '--help',
    ]);
    for (const word of ['tasks', 'runs', 'versions', 'restore', 'verify', 'users', 'Exit codes'])
      expect(stdout).toContain(word);
  });

  it('should list accounts and tasks as JSON', async () => {
    const accounts = await cbe(['--json', 'accounts', 'list']);
    expect(accounts.code).toBe(0);
    expect((JSON.parse(accounts.out) as Array<{ name: string }>).map((a) => a.name)).toEqual(
      expect.arrayContaining(['source', 'target']),
    );
    const tasks = await cbe(['tasks', 'list']);
    expect(tasks.out).toContain('cli task');
  });

  it('should run a task, watch it to the end and exit 0, then restore it byte for byte', async () => {
    const run = await cbe(['--json', 'tasks', 'run', taskId, '--watch']);
    expect(run.err).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const finished = JSON.parse(run.out) as { status: string; filesCopied: number; id: string };
    expect(finished).toMatchObject({ status: 'completed', filesCopied: 21 });

    const shown = await cbe(['runs', 'show', finished.id]);
    expect(shown.out).toMatch(/completed .*21 files copied/);

    const versions = JSON.parse((await cbe(['--json', 'versions', 'list', taskId])).out) as Array<{
      id: string;
      status: string;
    }>;
    expect(versions.map((v) => v.status)).toEqual(['complete']);
    const listed = await cbe([
      '--json',
      'versions',
      'files',
      versions[0]!.id,
      '--prefix',
      'photos',
    ]);
    expect((JSON.parse(listed.out) as unknown[]).length).toBe(20);

    const restore = await cbe([
      'restore',
      versions[0]!.id,
      '--path',
      'photos',
      '--to-account',
      sourceId,
      '--to-path',
      'restored',
    ]);
    expect(restore.err).toBe('');
    expect(restore.code).toBe(EXIT.ok);
    expect(restore.out).toMatch(/restore run \S+ (queued|running)/);
    expect(restore.out).toMatch(/completed/);
    for (const name of ['photos/p0.jpg', 'photos/p19.jpg']) {
      const back = await readFile(join(dir, 'src', 'restored', name));
      expect(sha256(back)).toBe(sha256(files[name]!));
    }
  });

  it('should exit 1 when the watched run fails', async () => {
    // A drive unplugged after its account was made: the run ends offline, nothing written.
    await mkdir(join(dir, 'unplugged'));
    const gone = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
      kind: 'local',
      name: 'missing',
      options: { root: join(dir, 'unplugged') },
    });
    await rm(join(dir, 'unplugged'), { recursive: true });
    const task = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/tasks', {
      name: 'failing',
      sourceAccountId: gone.id,
      targetAccountId: sourceId,
      targetPath: 'never',
    });
    const sut = await cbe(['tasks', 'run', task.id, '--watch']);
    expect(sut.out).toMatch(/offline/);
    expect(sut.code).toBe(EXIT.failed);
  });

  it('should answer with documented exit codes a script can test', async () => {
    expect((await cbe(['runs', 'show', 'no-such-run'])).code).toBe(EXIT.notFound);
    const badToken = await cbe(['tasks', 'list'], '', { CBE_TOKEN: 'cbe_wrong' });
    expect(badToken.code).toBe(EXIT.unauthorized);
    const noEngine = await cbe(['tasks', 'list', '--url', 'http://127.0.0.1:9'], '');
    expect(noEngine.code).toBe(EXIT.unreachable);
    expect(noEngine.err).toMatch(/^cbe: cannot reach the engine at http:\/\/127\.0\.0\.1:9/);
    const usage = await cbe(['restore', 'x', '--conflict', 'maybe']);
    expect(usage.code).toBe(EXIT.usage);
    const verify = await cbe(['verify', taskId, '--no-watch']);
    expect([EXIT.ok, EXIT.unavailable]).toContain(verify.code);
    if (verify.code === EXIT.unavailable) expect(verify.err).toMatch(/not available/);
  });

  it('should pause, resume and cancel a running run, with exit codes for the wrong state', async () => {
    // A cloud that answers 429 with Retry-After 120 s: the run stays running, waiting to retry.
    const emulator: DropboxEmulator = await startDropboxEmulator({ maxLongpollMs: 200 });
    try {
      await emulator.seedFile('/Photos/a.jpg', patternBytes(5000, 3));
      emulator.api.inject({ kind: 'rateLimit', retryAfterSeconds: 120, times: 5 });
      const cloud = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/accounts', {
        kind: 'dropbox',
        name: 'slow cloud',
        options: {
          clientId: emulator.credentials.clientId,
          clientSecret: emulator.credentials.clientSecret,
          refreshToken: emulator.credentials.refreshToken,
          apiBaseUrl: emulator.hosts.api,
          contentBaseUrl: emulator.hosts.content,
          notifyBaseUrl: emulator.hosts.notify,
          authorizeBaseUrl: emulator.hosts.www,
        },
      });
      const task = await api<{ id: string }>(engine.baseUrl, 'POST', '/api/tasks', {
        name: 'slow',
        sourceAccountId: cloud.id,
        sourcePath: 'Photos',
        targetAccountId: sourceId,
        targetPath: 'slow-copy',
      });
      const started = JSON.parse((await cbe(['tasks', 'run', task.id, '--json'])).out) as {
        id: string;
      };
      for (let i = 0; i < 200; i++) {
        const r = JSON.parse((await cbe(['runs', 'show', started.id, '--json'])).out) as {
          status: string;
        };
        if (r.status === 'running') break;
        await new Promise((res) => setTimeout(res, 50));
      }

      const resumeFirst = await cbe(['runs', 'resume', started.id]);
      expect(resumeFirst.code).toBe(EXIT.conflict);
      expect(resumeFirst.err).toMatch(/not paused/);
      const pause = await cbe(['runs', 'pause', started.id, '--json']);
      expect(pause.code).toBe(EXIT.ok);
      expect(JSON.parse(pause.out)).toMatchObject({ id: started.id, status: 'running' });
      const resume = await cbe(['runs', 'resume', started.id]);
      expect(resume).toMatchObject({ code: EXIT.ok, out: `run ${started.id} resumed\n` });
      const cancel = await cbe(['runs', 'cancel', started.id]);
      expect(cancel).toMatchObject({ code: EXIT.ok, out: `run ${started.id} cancelled\n` });
      expect((await cbe(['runs', 'watch', started.id])).code).toBe(EXIT.cancelled);
      const again = await cbe(['runs', 'cancel', started.id]);
      expect(again.code).toBe(EXIT.conflict);
      expect(again.err).toMatch(/cancelled; only a queued or running run can be cancelled/);
      expect((await cbe(['runs', 'pause', 'no-such-run'])).code).toBe(EXIT.notFound);
    } finally {
      await emulator.stop();
    }
  });

  it('should reset the admin password on the database directly and check the configuration', async () => {
    const reset = await cbe(
      ['users', 'reset-password', ENGINE_ADMIN.username, '--password-stdin'],
      'brand-new-password\n',
    );
    expect(reset.err).toBe('');
    expect(reset.code).toBe(EXIT.ok);
    const login = await fetch(`${engine.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ENGINE_ADMIN.username, password: 'brand-new-password' }),
    });
    expect(login.status).toBe(200);
    const added = await cbe(['--json', 'users', 'add', 'operator']);
    expect(JSON.parse(added.out)).toMatchObject({ username: 'operator', role: 'user' });
    expect((JSON.parse(added.out) as { password: string }).password.length).toBeGreaterThan(16);
    expect((await cbe(['users', 'reset-password', 'nobody'])).code).toBe(EXIT.notFound);

    const ok = await cbe(['config', 'check']);
    expect(ok.code).toBe(EXIT.ok);
    const bad = await cbe(['config', 'check'], '', {
      PUBLIC_URL: 'notaurl',
      SMTP_PASSWORD: 's3cret-pass',
    });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.out).toMatch(/problem: PUBLIC_URL must be/);
    expect(bad.out).not.toContain('s3cret-pass');
  });
});
