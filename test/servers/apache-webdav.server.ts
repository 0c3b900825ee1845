import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, waitForPort } from './free-port.js';

const APACHE = '/usr/sbin/apache2';
const HTPASSWD = '/usr/bin/htpasswd';
const MODULES = '/usr/lib/apache2/modules';
const REALM = 'cbe-webdav-test';

export interface WebDavServer {
  /** Base URL of the folder served with Basic auth. */
  basicUrl: string;
  /** Base URL of the folder served with Digest auth. */
  digestUrl: string;
  basic: { username: string; password: string };
  digest: { username: string; password: string };
  /** Folder on disk behind `basicUrl` (to check what a write left there). */
  basicDir: string;
  digestDir: string;
  stop(): Promise<void>;
}

function requireBinary(path: string, pkg: string): void {
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: install the Debian package '${pkg}' (.ci/run lists it in DEB_PACKAGES)`,
    );
}

/**
 * Starts Debian's Apache httpd with mod_dav on a loopback port, from a config generated in a temp
 * folder (the system instance and /etc/apache2 are not touched): /basic/ behind Basic auth
 * (htpasswd file), /digest/ behind Digest auth (htdigest-format file), one throwaway user each.
 * As root, httpd drops to www-data for its workers, so the served folders belong to www-data.
 */
export async function startWebDavServer(): Promise<WebDavServer> {
  requireBinary(APACHE, 'apache2');
  requireBinary(HTPASSWD, 'apache2-utils');
  const dir = await mkdtemp(join(tmpdir(), 'cbe-apache-'));
  const www = join(dir, 'www');
  const basicDir = join(www, 'basic');
  const digestDir = join(www, 'digest');
  await mkdir(basicDir, { recursive: true });
  await mkdir(digestDir, { recursive: true });
  await mkdir(join(dir, 'lock'), { recursive: true });
  const basic = { username: 'cbe-basic', password: randomBytes(9).toString('base64url') };
  const digest = { username: 'cbe-digest', password: randomBytes(9).toString('base64url') };
  const htp = spawnSync(HTPASSWD, ['-bcB', join(dir, 'htpasswd'), basic.username, basic.password]);
  if (htp.status !== 0) throw new Error(`htpasswd failed: ${htp.stderr.toString()}`);
  // htdigest has no batch mode; its line is user:realm:md5(user:realm:password).
  const ha1 = createHash('md5')
    .update(`${digest.username}:${REALM}:${digest.password}`)
    .digest('hex');
  await writeFile(join(dir, 'htdigest'), `${digest.username}:${REALM}:${ha1}\n`);

  const isRoot = userInfo().uid === 0;
  if (isRoot) {
    await chmod(dir, 0o755); // mkdtemp makes it 0700: the www-data workers must traverse it
    for (const p of [www, basicDir, digestDir, join(dir, 'lock')]) await chown(p, 33, 33); // www-data
  }
  const port = await freeLoopbackPort();
  const conf = `
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${dir}/httpd.pid"
ErrorLog "${dir}/error.log"
LogLevel warn
${isRoot ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authn_file_module ${MODULES}/mod_authn_file.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_basic_module ${MODULES}/mod_auth_basic.so
LoadModule auth_digest_module ${MODULES}/mod_auth_digest.so
LoadModule dav_module ${MODULES}/mod_dav.so
LoadModule dav_fs_module ${MODULES}/mod_dav_fs.so
DavLockDB "${dir}/lock/DavLock"
DocumentRoot "${www}"
Timeout 60
LimitRequestBody 0
<Directory />
  Require all denied
  AllowOverride None
</Directory>
<Directory "${basicDir}">
  Dav On
  AuthType Basic
  AuthName "${REALM}"
  AuthBasicProvider file
  AuthUserFile "${dir}/htpasswd"
  Require valid-user
</Directory>
<Directory "${digestDir}">
  Dav On
  AuthType Digest
  AuthName "${REALM}"
  AuthDigestProvider file
  AuthUserFile "${dir}/htdigest"
  AuthDigestDomain /digest/
  Require valid-user
</Directory>
`;
  await writeFile(join(dir, 'httpd.conf'), conf);
  const proc: ChildProcess = spawn(APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 10_000, () => `apache2 did not start: ${stderr}`);
  } catch (e) {
    await stop();
    throw e;
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    basicUrl: `${base}/basic/`,
    digestUrl: `${base}/digest/`,
    basic,
    digest,
    basicDir,
    digestDir,
    stop,
  };
}
