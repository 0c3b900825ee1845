import { AuthType, createClient } from 'webdav';
import type { ConnectorContext, ConnectorSettings } from '../connector-descriptor.js';
import { Pacer, type PacerOptions } from '../pacer/pacer.js';
import { webDavOptionsFrom } from './index.js';
import { WebDavConnector } from './webdav.connector.js';
import { DavHttp } from './webdav.http.js';

export function createWebDavConnector(
  settings: ConnectorSettings,
  ctx: ConnectorContext,
  extras: { pacer?: PacerOptions } = {},
): WebDavConnector {
  const o = webDavOptionsFrom(settings);
  const client = createClient(o.url, {
    username: o.username,
    password: o.password,
    authType: o.authType === 'digest' ? AuthType.Digest : AuthType.Password,
    // A non-admin's server: every connection (redirects too) is checked against the policy.
    ...(ctx.outboundAgent && {
      httpAgent: ctx.outboundAgent('http:'),
      httpsAgent: ctx.outboundAgent('https:'),
    }),
  });
  const pacer = new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry, ...extras.pacer });
  const digest = o.authType === 'digest';
  // Basic auth is one fixed header: PUT and MOVE can skip the package (DavHttp). A restricted
  // owner's requests go through the policy agent there too.
  const http = digest
    ? undefined
    : new DavHttp(
        o.url,
        `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`,
        ctx.outboundAgent?.(new URL(o.url).protocol),
      );
  return new WebDavConnector(client, pacer, o.url, { digest }, http);
}
