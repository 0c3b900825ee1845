import { buffer } from 'node:stream/consumers';
import { systemClock } from '../../src/common/clock.js';
import type { Connector } from '../../src/connectors/connector.js';
import type { ConnectorSettings } from '../../src/connectors/connector-descriptor.js';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import { dropboxFixture, type WritableCloud } from '../support/cloud-fixtures.js';
import { patternBytes, sha256 } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';
import { startWebDavServer, type WebDavServer } from '../servers/apache-webdav.server.js';
import { startS3Server, type S3Server } from '../servers/s3rver.server.js';
import { startSftpServer, type SftpServer } from '../servers/openssh-sftp.server.js';

/**
 * A backup from the Dropbox emulator into each self-hosted target, through the real API, queue and
 * ledger: s3rver (S3 REST), Apache httpd mod_dav (WebDAV, Digest auth) and OpenSSH sshd (SFTP,
 * key auth), each started by the test on a loopback port. The bytes are read back through a
 * fresh connector of the target and compared by SHA-256; then the version is restored from that
 * target back into another folder of the Dropbox emulator, whose stored bytes must match too.
 */

const MiB = 1024 * 1024;
const SOURCE_FOLDER = 'Camera Uploads';
const files: Record<string, Buffer> = {
  'IMG_0001.JPG': patternBytes(300_000, 1),
  'été ☀/IMG #2 100%.heic': patternBytes(120_000, 2),
  // Above one S3 part (5 MiB here): goes up as a multipart upload.
  'videos/clip.mov': patternBytes(11 * MiB + 123, 3),
  'empty.txt': Buffer.alloc(0),
};

interface Target {
  kind: string;
  options(): Record<string, unknown>;
  settings(): ConnectorSettings;
}

let s3: S3Server;
let dav: WebDavServer;
let ssh: SftpServer;

const targets: Target[] = [
  {
    kind: 's3',
    options: () => ({ ...s3.accountOptions, partSize: 5 * MiB, prefix: 'laptop' }),
    settings: () => ({
      config: { ...s3.accountOptions, partSize: 5 * MiB, prefix: 'laptop' },
      secrets: {},
    }),
  },
  {
    kind: 'webdav',
    options: () => ({
      url: dav.digestUrl,
      username: dav.digest.username,
      password: dav.digest.password,
      authType: 'digest',
    }),
    settings: () => ({
      config: { url: dav.digestUrl, username: dav.digest.username, authType: 'digest' },
      secrets: { password: dav.digest.password },
    }),
  },
  {
    kind: 'sftp',
    options: () => ({
      host: ssh.host,
      port: ssh.port,
      username: ssh.username,
      privateKey: ssh.privateKey,
      passphrase: ssh.passphrase,
      root: ssh.root,
    }),
    settings: () => ({
      config: {
        host: ssh.host,
        port: ssh.port,
        username: ssh.username,
        root: ssh.root,
        hostKeyFingerprint: ssh.hostKeyFingerprint,
      },
      secrets: { privateKey: ssh.privateKey, passphrase: ssh.passphrase },
    }),
  },
];

// S3, WebDAV and SFTP are in the product registry.
const registry = new ConnectorRegistry(CONNECTOR_DESCRIPTORS);

async function readTree(c: Connector, dir: string, out: Record<string, Buffer> = {}, base = dir) {
  for await (const e of c.list(dir)) {
    if (e.kind === 'folder') await readTree(c, e.path, out, base);
    else out[e.path.slice(base.length + 1)] = await buffer(await c.read(e.path));
  }
  return out;
}

describe('backup from the Dropbox emulator to S3, WebDAV and SFTP servers, and restore back', () => {
  let t: TestApp;
  let source: WritableCloud;
  let sourceAccountId: string;

  beforeAll(async () => {
    [s3, dav, ssh, source] = await Promise.all([
      startS3Server(),
      startWebDavServer(),
      startSftpServer(),
      dropboxFixture.start(),
    ]);
    await source.seed(SOURCE_FOLDER, files, new Date('2024-05-01T10:00:00Z'));
    t = await startTestApp({ registry });
    sourceAccountId = (
      await t.http
        .post('/api/accounts')
        .send({ kind: 'dropbox', name: 'Dropbox', options: source.accountOptions })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([s3?.stop(), dav?.stop(), ssh?.stop(), source?.stop()]);
  });

  it.each(targets.map((x) => [x.kind, x] as const))(
    'should back up every file byte for byte into %s and restore it back to Dropbox',
    async (kind, target) => {
      const account = await t.http
        .post('/api/accounts')
        .send({ kind, name: `${kind} target`, options: target.options() })
        .expect(201);
      expect(JSON.stringify(account.body)).not.toContain(
        kind === 's3' ? 'S3RVER' : kind === 'webdav' ? dav.digest.password : ssh.passphrase,
      );
      const task = await t.http
        .post('/api/tasks')
        .send({
          name: `Dropbox to ${kind}`,
          sourceAccountId,
          targetAccountId: account.body.id,
          sourcePath: SOURCE_FOLDER,
          targetPath: 'Backups',
          concurrency: 2,
        })
        .expect(201);
      const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
      const run = await waitForRun(t.http, started.body.id, 120_000);
      expect(run).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 4,
        filesFailed: 0,
      });
      const total = Object.values(files).reduce((n, b) => n + b.length, 0);
      expect(run.bytesCopied).toBe(total);

      const reader = registry
        .get(kind)
        .create(target.settings(), { clock: systemClock, saveSecrets: async () => undefined });
      try {
        const stored = await readTree(reader, 'Backups');
        const byFolder: Record<string, Record<string, string>> = {};
        for (const [rel, b] of Object.entries(stored)) {
          const [folder, ...rest] = rel.split('/');
          (byFolder[folder!] ??= {})[rest.join('/')] = sha256(b);
        }
        const versionFolders = Object.keys(byFolder).filter((f) => f.startsWith('v000001_'));
        expect(versionFolders).toHaveLength(1);
        expect(byFolder[versionFolders[0]!]).toEqual(
          Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
        );
        expect(Object.keys(byFolder['.cbe-manifests'] ?? {})).toEqual(['v000001.jsonl']);
      } finally {
        await reader.close?.();
      }

      // Restore the version from the target into another folder of the Dropbox emulator.
      const versions = (await t.http.get(`/api/tasks/${task.body.id}/versions`).expect(200))
        .body as Array<{ id: string; status: string }>;
      expect(versions.map((v) => v.status)).toEqual(['complete']);
      const restoreFolder = `restored/${kind}`;
      const restoreStarted = await t.http
        .post(`/api/versions/${versions[0]!.id}/restore`)
        .send({ destination: { accountId: sourceAccountId, path: restoreFolder } })
        .expect(202);
      const restoreRun = await waitForRun(t.http, restoreStarted.body.id, 120_000);
      expect(restoreRun).toMatchObject({
        status: 'completed',
        filesTotal: 4,
        filesCopied: 4,
        filesFailed: 0,
        bytesCopied: total,
      });
      const restored = await source.readTree(restoreFolder);
      expect(Object.fromEntries(Object.entries(restored).map(([p, b]) => [p, sha256(b)]))).toEqual(
        Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
      );
    },
  );
});
