import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Issue 22, item 8: the Containerfile builds an image whose engine answers its readiness check
 * from outside the container. Building takes about 6 minutes at 2 cores, too long for every test
 * run: this runs only with CBE_CONTAINER_TEST=1 (and podman that can build and run here), else it
 * is skipped with the reason printed. The machine-specific workarounds of docs/operations.md
 * (chroot isolation, runc without default ulimits) are used; they work on ordinary hosts too.
 * CBE_NODE_IMAGE names the base image (default: localhost/node:20-bookworm-slim when present,
 * else docker.io/library/node:20-bookworm-slim).
 */
const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const IMAGE = 'localhost/cbe:e2e';

function podman(args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      'podman',
      args,
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        error
          ? fail(new Error(`podman ${args[0]} failed: ${error.message}\n${stderr.slice(-4000)}`))
          : done(stdout + stderr),
    );
  });
}

/** Why the test cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  if (process.env.CBE_CONTAINER_TEST !== '1') {
    return 'set CBE_CONTAINER_TEST=1 to run it: building the image takes ~6 min at 2 cores, too long for every test run';
  }
  try {
    execFileSync('podman', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'podman is not installed (apt-get install podman buildah runc)';
  }
  try {
    execFileSync('podman', ['info'], { stdio: 'pipe', timeout: 30_000 });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? e).trim();
    return `podman cannot run here: ${stderr.split('\n').pop()}`;
  }
  return undefined;
}

function hasImage(name: string): boolean {
  try {
    execFileSync('podman', ['image', 'exists', name], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function hasRunc(): boolean {
  try {
    execFileSync('runc', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

const reason = skipReason();
if (reason) process.stderr.write(`container.e2e-spec: skipped: ${reason}\n`);

(reason ? describe.skip : describe)(
  `the container image${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const name = `cbe-e2e-${process.pid}`;
    let confDir: string | undefined;

    afterAll(async () => {
      await podman(['rm', '-f', '-v', '-t', '2', name]).catch(() => undefined);
      if (confDir) await rm(confDir, { recursive: true, force: true });
    });

    it(
      'should build, start and answer /api/health/ready from outside the container',
      async () => {
        const base =
          process.env.CBE_NODE_IMAGE ??
          (hasImage('localhost/node:20-bookworm-slim')
            ? 'localhost/node:20-bookworm-slim'
            : 'docker.io/library/node:20-bookworm-slim');
        const started = Date.now();
        await podman(
          [
            'build',
            '--isolation=chroot',
            '--format',
            'docker',
            '--build-arg',
            `NODE_IMAGE=${base}`,
            '-t',
            IMAGE,
            '-f',
            'Containerfile',
            '.',
          ],
          undefined,
          20 * 60_000,
        );
        process.stderr.write(
          `container.e2e-spec: image built in ${(Date.now() - started) / 1000} s\n`,
        );

        confDir = await mkdtemp(join(tmpdir(), 'cbe-podman-'));
        const conf = join(confDir, 'containers.conf');
        await writeFile(conf, '[containers]\ndefault_ulimits = []\n');
        const port = await freePort();
        await podman(
          [
            ...(hasRunc() ? ['--runtime', 'runc'] : []),
            'run',
            '-d',
            '--name',
            name,
            '-p',
            `127.0.0.1:${port}:3000`,
            IMAGE,
          ],
          { CONTAINERS_CONF: conf },
        );

        const deadline = Date.now() + 60_000;
        let last: string;
        for (;;) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/api/health/ready`);
            last = `${res.status} ${await res.text()}`;
            if (res.status === 200) break;
          } catch (e) {
            last = String(e);
          }
          if (Date.now() > deadline) {
            const logs = await podman(['logs', name]).catch((e: Error) => e.message);
            throw new Error(`not ready after 60 s: ${last}\n${logs.slice(-4000)}`);
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(JSON.parse(last.slice(4))).toMatchObject({ status: 'ok' });
        const logs = await podman(['logs', name]);
        expect(logs).toContain('web UI at');
      },
      25 * 60_000,
    );
  },
);
