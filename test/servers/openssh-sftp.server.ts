import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, waitForPort } from './free-port.js';

const SSHD = '/usr/sbin/sshd';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface SftpServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** OpenSSH private key of the user, encrypted with `passphrase`. */
  privateKey: string;
  passphrase: string;
  /** Absolute folder on the server the tests use as the account root (owned by the user). */
  root: string;
  /** The server's host key fingerprint, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** Replaces the host key and restarts sshd on the same port (a "changed server"). */
  rotateHostKey(): Promise<string>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Starts Debian's OpenSSH server on a loopback port from its own sshd_config in a temp folder
 * (the system sshd and /etc/ssh are not touched), with a throwaway host key and a throwaway
 * system user (random name, random password, a generated key pair in an authorized_keys file of
 * the temp folder). Needs root: sshd must run as root to switch to the user, and the user is
 * created with useradd and deleted by stop(). Root itself never logs in (PermitRootLogin no).
 */
export async function startSftpServer(): Promise<SftpServer> {
  for (const [bin, pkg] of [
    [SSHD, 'openssh-server'],
    [SSH_KEYGEN, 'openssh-client'],
  ] as const) {
    if (!existsSync(bin))
      throw new Error(
        `${bin} is missing: install the Debian package '${pkg}' (.ci/run lists it in DEB_PACKAGES)`,
      );
  }
  if (userInfo().uid !== 0)
    throw new Error(
      'the SFTP tests start sshd and create a throwaway user: run them as root (CI does)',
    );
  const dir = await mkdtemp(join(tmpdir(), 'cbe-sshd-'));
  await chmod(dir, 0o755);
  const username = `cbe${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const passphrase = randomBytes(8).toString('base64url');
  const home = join(dir, 'home');
  await mkdir(home);
  run('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/bin/sh', username]);
  const cleanups: Array<() => Promise<void>> = [
    async () => void spawnSync('userdel', [username]),
    () => rm(dir, { recursive: true, force: true }),
  ];
  let proc: ChildProcess | undefined;
  const stopSshd = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
  };
  const stop = async () => {
    await stopSshd();
    for (const c of cleanups) await c().catch(() => undefined);
  };
  try {
    run('chpasswd', [], `${username}:${password}\n`);
    const uid = Number(run('id', ['-u', username]).trim());
    const gid = Number(run('id', ['-g', username]).trim());
    const root = join(home, 'backup');
    await mkdir(root);
    await chown(home, uid, gid);
    await chown(root, uid, gid);
    run(SSH_KEYGEN, [
      '-q',
      '-t',
      'ed25519',
      '-N',
      passphrase,
      '-C',
      username,
      '-f',
      join(dir, 'user_key'),
    ]);
    await mkdir(join(dir, 'authorized_keys'));
    await writeFile(
      join(dir, 'authorized_keys', username),
      await readFile(join(dir, 'user_key.pub')),
    );
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation folder
    const port = await freeLoopbackPort();
    const newHostKey = async (): Promise<string> => {
      await rm(join(dir, 'host_key'), { force: true });
      await rm(join(dir, 'host_key.pub'), { force: true });
      run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
      return run(SSH_KEYGEN, ['-l', '-E', 'sha256', '-f', join(dir, 'host_key.pub')]).split(
        ' ',
      )[1]!;
    };
    await writeFile(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin no',
        `AllowUsers ${username}`,
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    let stderr = '';
    const startSshd = async () => {
      stderr = '';
      proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitForPort(port, 10_000, () => `sshd did not start: ${stderr}`);
    };
    const server: SftpServer = {
      host: '127.0.0.1',
      port,
      username,
      password,
      privateKey: await readFile(join(dir, 'user_key'), 'utf8'),
      passphrase,
      root,
      hostKeyFingerprint: await newHostKey(),
      rotateHostKey: async () => {
        await stopSshd();
        server.hostKeyFingerprint = await newHostKey();
        await startSshd();
        return server.hostKeyFingerprint;
      },
      stop,
    };
    await startSshd();
    return server;
  } catch (e) {
    await stop();
    throw e;
  }
}
