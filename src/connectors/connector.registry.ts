import type { ConnectorDescriptor } from './connector-descriptor.js';
import { observed } from './request-observer.js';
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

/** The descriptor whose connectors tell the metrics their requests (request-observer.ts). */
function withObservedConnectors(d: ConnectorDescriptor): ConnectorDescriptor {
  const create: ConnectorDescriptor['create'] = (settings, ctx) =>
    observed(d.kind, d.create(settings, ctx));
  return new Proxy(d, {
    get: (target, prop, receiver) =>
      prop === 'create' ? create : (Reflect.get(target, prop, receiver) as unknown),
  });
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
