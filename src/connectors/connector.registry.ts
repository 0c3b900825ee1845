import type { ConnectorDescriptor, ConnectorSettings } from './connector-descriptor.js';
import { hostsOfUrls, observed, retryReporter } from './request-observer.js';
import { dropboxConnectorDescriptor } from './dropbox/index.js';
import { googleDriveConnectorDescriptor } from './google-drive/index.js';
import { icloudPhotosConnectorDescriptor } from './icloud-photos/index.js';
import { localConnectorDescriptor } from './local/index.js';
import { oneDriveConnectorDescriptor } from './onedrive/index.js';
import { s3ConnectorDescriptor } from './s3/index.js';
import { sftpConnectorDescriptor } from './sftp/index.js';
import { webDavConnectorDescriptor } from './webdav/index.js';

/** The connector kinds this build ships, listed explicitly (no side-effect registration). */
export const CONNECTOR_DESCRIPTORS: readonly ConnectorDescriptor[] = [
  localConnectorDescriptor,
  googleDriveConnectorDescriptor,
  oneDriveConnectorDescriptor,
  dropboxConnectorDescriptor,
  icloudPhotosConnectorDescriptor,
  s3ConnectorDescriptor,
  webDavConnectorDescriptor,
  sftpConnectorDescriptor,
];

export class UnknownConnectorKindError extends Error {
  constructor(readonly kind: string) {
    super(`unknown connector kind '${kind}'`);
  }
}

export class ConnectorRegistry {
  private readonly byKind = new Map<string, ConnectorDescriptor>();

  constructor(descriptors: readonly ConnectorDescriptor[] = CONNECTOR_DESCRIPTORS) {
    for (const d of descriptors) {
      assertCompleteDescriptor(d);
      if (this.byKind.has(d.kind)) throw new Error(`connector kind '${d.kind}' is listed twice`);
      this.byKind.set(d.kind, withObservedConnectors(d));
    }
  }

  get(kind: string): ConnectorDescriptor {
    const d = this.byKind.get(kind);
    if (!d) throw new UnknownConnectorKindError(kind);
    return d;
  }

  has(kind: string): boolean {
    return this.byKind.has(kind);
  }

  list(): ConnectorDescriptor[] {
    return [...this.byKind.values()];
  }
}

/**
 * The descriptor whose connectors tell the metrics their requests and retries
 * (request-observer.ts): each connector's servers are its URL options (the account's values, else
 * their defaults) and the provider's domains the descriptor declares (`requestHosts`); its retries
 * reach the metrics through the Pacer's `onRetry`, before the engine's own listener.
 */
function withObservedConnectors(d: ConnectorDescriptor): ConnectorDescriptor {
  const create: ConnectorDescriptor['create'] = (settings, ctx) =>
    observed(
      d.kind,
      d.create(settings, { ...ctx, onRetry: retryReporter(d.kind, ctx.onRetry) }),
      connectorHosts(d, settings),
    );
  return new Proxy(d, {
    get: (target, prop, receiver) =>
      prop === 'create' ? create : (Reflect.get(target, prop, receiver) as unknown),
  });
}

/** The servers (`host[:port]`) a connector of `d` with `settings` sends its HTTP requests to. */
export function connectorHosts(d: ConnectorDescriptor, settings: ConnectorSettings): string[] {
  const urls = d.options
    .filter((o) => o.target === 'server-url' || o.target === 'admin-endpoint')
    .map((o) => settings.config[o.key] || o.default);
  return [...hostsOfUrls(urls), ...(d.requestHosts ?? [])];
}

/** Fails fast at start-up on a descriptor missing what the UI or the engine relies on. */
function assertCompleteDescriptor(d: ConnectorDescriptor): void {
  const missing: string[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(d.kind ?? '')) missing.push('kind (kebab-case id)');
  if (!d.displayName) missing.push('displayName');
  if (!Array.isArray(d.options)) missing.push('options');
  if (!d.capabilities) missing.push('capabilities');
  if (typeof d.create !== 'function') missing.push('create');
  if (missing.length > 0) {
    throw new Error(`connector descriptor '${d.kind}' is incomplete: ${missing.join(', ')}`);
  }
}
