import type { ConnectorDescriptor, ConnectorSettings } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';
import { LazyConnector } from '../lazy-connector.js';
import { SFTP_CAPABILITIES } from './sftp.connector.js';
import { SFTP_OPTIONS, type SftpConnectorOptions } from './sftp.options.js';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Turns stored settings into typed options, failing fast on what cannot work. */
export function sftpOptionsFrom(settings: ConnectorSettings): SftpConnectorOptions {
  const { config, secrets } = settings;
  const host = text(config.host);
  const username = text(config.username);
  if (!host || !username) throw new FatalError('sftp: the host and the user are required');
  const port = Number(config.port ?? 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new FatalError('sftp: port must be 1..65535');
  const password = text(secrets.password);
  const privateKey = text(secrets.privateKey);
  if (!password && !privateKey)
    throw new FatalError('sftp: a password or a private key is required');
  const fingerprint = text(config.hostKeyFingerprint) ?? text(secrets.hostKeyFingerprint);
  if (fingerprint && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint))
    throw new FatalError(
      `sftp: hostKeyFingerprint '${fingerprint}' is not a SHA256 fingerprint (SHA256:<43 base64 characters>)`,
    );
  const rawRoot = text(config.root) ?? '';
  const root = rawRoot.startsWith('/') ? `/${normalizeRoot(rawRoot)}` : normalizeRoot(rawRoot);
  return {
    host,
    port,
    username,
    password,
    privateKey,
    passphrase: text(secrets.passphrase),
    root,
    hostKeyFingerprint: fingerprint,
  };
}

function normalizeRoot(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

export const sftpConnectorDescriptor: ConnectorDescriptor = {
  kind: 'sftp',
  displayName: 'SFTP',
  description: 'A folder on any SSH server (OpenSSH, a NAS, a VPS), with a password or a key.',
  options: SFTP_OPTIONS,
  capabilities: SFTP_CAPABILITIES,
  // Settings are checked now; ssh2 is imported on the connector's first call.
  create: (settings, ctx) => {
    sftpOptionsFrom(settings);
    return new LazyConnector('sftp', SFTP_CAPABILITIES, async () =>
      (await import('./sftp.factory.js')).createSftpConnector(settings, ctx),
    );
  },
};
