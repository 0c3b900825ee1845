import { AuthType, createClient } from 'webdav';
import type { ConnectorContext, ConnectorSettings } from '../connector-descriptor.js';
import { Pacer, type PacerOptions } from '../pacer/pacer.js';
import { webDavOptionsFrom } from './index.js';
import { WebDavConnector } from './webdav.connector.js';

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
  return new WebDavConnector(client, pacer, o.url);
}
