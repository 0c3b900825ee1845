import type { ConnectorContext, ConnectorSettings } from '../connector-descriptor.js';
import { Pacer, type PacerOptions } from '../pacer/pacer.js';
import { sftpOptionsFrom } from './index.js';
import { SftpSession } from './sftp.client.js';
import { ParsedKeyCache } from './sftp.keys.js';
import { SftpConnector } from './sftp.connector.js';

/**
 * One per process, on purpose: each run opens its own connector, and the point is that the next
 * run to the same server does not decrypt the same key again (~300 ms of CPU each, issue #21).
 */
const parsedKeys = new ParsedKeyCache();

export function createSftpConnector(
  settings: ConnectorSettings,
  ctx: ConnectorContext,
  extras: { pacer?: PacerOptions } = {},
): SftpConnector {
  const o = sftpOptionsFrom(settings);
  const pacer = new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry, ...extras.pacer });
  // The fingerprint pinned on first connect is stored with the account's secrets.
  return new SftpConnector(
    new SftpSession(o, pacer, (s) => ctx.saveSecrets(s), ctx.outboundConnect, parsedKeys),
    o.root,
  );
}
