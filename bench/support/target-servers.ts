/**
 * The targets of the per-file and rclone benchmarks: a local folder and the three real servers of
 * test/servers (OpenSSH sshd, s3rver, Apache mod_dav), each with the engine account options that
 * point at it and the rclone remote (an on-the-fly connection string, no rclone.conf) that points
 * at the same place.
 */
// tsconfig.build.json does not include test/servers: its s3rver module declaration comes in here.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration
/// <reference path="../../test/servers/s3rver.d.ts" />
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startWebDavServer } from '../../test/servers/apache-webdav.server.js';
import { startSftpServer } from '../../test/servers/openssh-sftp.server.js';
import { startS3Server } from '../../test/servers/s3rver.server.js';
import type { ConnectorSettings } from '../../src/connectors/connector-descriptor.js';
import { validateConnectorOptions } from '../../src/connectors/connector-options.js';
import { CONNECTOR_DESCRIPTORS } from '../../src/connectors/connector.registry.js';

export const TARGET_KINDS = ['local', 'sftp', 's3', 'webdav'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const TARGET_LABELS: Record<TargetKind, string> = {
  local: 'local folder',
  sftp: 'SFTP (OpenSSH)',
  s3: 'S3 (s3rver)',
  webdav: 'WebDAV (Apache)',
};

export interface TargetServer {
  kind: TargetKind;
  /** Options of an engine account (POST /api/accounts), as a user would enter them. */
  accountOptions: Record<string, unknown>;
  /** The same options split into config and secrets, for a connector created directly. */
  settings: ConnectorSettings;
  /** `rclone` remote for a folder `path` under the account's root (connection string). */
  rcloneRemote(path: string): string;
  /** Empties what the engine and rclone wrote under `path` (between rounds). */
  clear(path: string): Promise<void>;
  stop(): Promise<void>;
}

export function connectorSettings(
  kind: string,
  options: Record<string, unknown>,
): ConnectorSettings {
  const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === kind);
  if (!d) throw new Error(`no connector '${kind}'`);
  return validateConnectorOptions(d, options);
}

/** rclone's obscured form of a password (what `rclone obscure` prints): its config wants it. */
function obscure(secret: string): string {
  return execFileSync('rclone', ['obscure', secret], { encoding: 'utf8' }).trim();
}

/** A connection-string value: quoted, since keys and passwords may hold ',' or ':'. */
function q(v: string | number): string {
  return `"${String(v).replace(/"/g, '""')}"`;
}

export async function startTarget(kind: TargetKind, dir: string): Promise<TargetServer> {
  switch (kind) {
    case 'local': {
      const root = join(dir, 'local-target');
      await mkdir(root, { recursive: true });
      const accountOptions = { root };
      return {
        kind,
        accountOptions,
        settings: connectorSettings('local', accountOptions),
        rcloneRemote: (p) => join(root, p),
        clear: (p) => rm(join(root, p), { recursive: true, force: true }),
        stop: async () => undefined,
      };
    }
    case 'sftp': {
      const s = await startSftpServer();
      const accountOptions = {
        host: s.host,
        port: s.port,
        username: s.username,
        privateKey: s.privateKey,
        passphrase: s.passphrase,
        root: s.root,
        hostKeyFingerprint: s.hostKeyFingerprint,
      };
      const keyFile = join(dir, 'sftp-key');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(keyFile, s.privateKey, { mode: 0o600 });
      const pass = obscure(s.passphrase);
      return {
        kind,
        accountOptions,
        settings: connectorSettings('sftp', accountOptions),
        rcloneRemote: (p) =>
          `:sftp,host=${q(s.host)},port=${s.port},user=${q(s.username)},key_file=${q(keyFile)},key_file_pass=${q(pass)}:${s.root}/${p}`,
        clear: (p) => rm(join(s.root, p), { recursive: true, force: true }),
        stop: () => s.stop(),
      };
    }
    case 's3': {
      const s = await startS3Server({ bucket: 'cbe-bench' });
      const o = s.accountOptions;
      return {
        kind,
        accountOptions: o,
        settings: connectorSettings('s3', o),
        rcloneRemote: (p) =>
          `:s3,provider=Other,env_auth=false,access_key_id=${q(String(o.accessKeyId))},secret_access_key=${q(String(o.secretAccessKey))},endpoint=${q(s.endpoint)},region=us-east-1,force_path_style=true:${s.bucket}/${p}`,
        clear: (p) => rm(join(s.directory, s.bucket, p), { recursive: true, force: true }),
        stop: () => s.stop(),
      };
    }
    case 'webdav': {
      const s = await startWebDavServer();
      const accountOptions = {
        url: s.basicUrl,
        username: s.basic.username,
        password: s.basic.password,
        authType: 'basic',
      };
      const pass = obscure(s.basic.password);
      return {
        kind,
        accountOptions,
        settings: connectorSettings('webdav', accountOptions),
        rcloneRemote: (p) =>
          `:webdav,url=${q(s.basicUrl)},vendor=other,user=${q(s.basic.username)},pass=${q(pass)}:${p}`,
        clear: (p) => rm(join(s.basicDir, p), { recursive: true, force: true }),
        stop: () => s.stop(),
      };
    }
  }
}
