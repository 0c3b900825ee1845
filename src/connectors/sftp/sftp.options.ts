import type { OptionSpec } from '../connector-descriptor.js';

export const SFTP_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'host',
    label: 'Host',
    help: 'Name or address of the SSH server.',
    type: 'string',
    target: 'server-host',
    required: true,
  },
  { key: 'port', label: 'Port', help: 'SSH port.', type: 'number', default: 22 },
  { key: 'username', label: 'User', help: 'SSH user name.', type: 'string', required: true },
  {
    key: 'password',
    label: 'Password',
    help: 'Password of that user. Leave empty when signing in with a private key.',
    type: 'string',
    secret: true,
  },
  {
    key: 'privateKey',
    label: 'Private key',
    help: 'Private key in OpenSSH or PEM format (the whole text of id_ed25519 or id_rsa). Preferred over a password.',
    type: 'string',
    secret: true,
  },
  {
    key: 'passphrase',
    label: 'Key passphrase',
    help: 'Passphrase of the private key, when it has one.',
    type: 'string',
    secret: true,
  },
  {
    key: 'root',
    label: 'Remote folder',
    help: 'Folder on the server the account is limited to, absolute (/srv/backup) or relative to the home folder. Empty: the home folder.',
    type: 'string',
    default: '',
  },
  {
    key: 'hostKeyFingerprint',
    label: 'Host key fingerprint',
    help: 'SHA256 fingerprint of the server key, as `ssh-keygen -lf` prints it (SHA256:...). Empty: the key seen on the first connection is pinned, and a different key later is refused.',
    type: 'string',
    advanced: true,
  },
];

export interface SftpConnectorOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  /** Remote folder without trailing '/'; '' for the login folder. */
  root: string;
  /** Pinned fingerprint ('SHA256:<base64 without padding>'), undefined until the first connect. */
  hostKeyFingerprint?: string;
}
