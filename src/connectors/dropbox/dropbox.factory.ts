import type { ConnectorContext, ConnectorSettings } from '../connector-descriptor.js';
import { Pacer, type PacerOptions } from '../pacer/pacer.js';
import { DropboxClient } from './dropbox.client.js';
import { DropboxConnector } from './dropbox.connector.js';
import type { FetchLike } from './dropbox.fetch.js';
import { dropboxOptionsFrom } from './dropbox.options.js';

/** Builds the connector; `fetch` and pacer options are for tests (the hosts stay the only difference). */
export function createDropboxConnector(
  settings: ConnectorSettings,
  ctx: ConnectorContext,
  extras: { fetch?: FetchLike; pacer?: PacerOptions } = {},
): DropboxConnector {
  const o = dropboxOptionsFrom(settings);
  const pacer = new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry, ...extras.pacer });
  const client = new DropboxClient({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    tokens: o.tokens,
    hosts: o.hosts,
    pacer,
    clock: ctx.clock,
    fetch: extras.fetch,
    // The vault merges what it is given: only the token keys are passed, never stale copies.
    onTokens: (t) =>
      ctx.saveSecrets({
        ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
        ...(t.accessToken ? { accessToken: t.accessToken } : {}),
        ...(t.accessTokenExpiresAt
          ? { accessTokenExpiresAt: t.accessTokenExpiresAt.toISOString() }
          : {}),
      }),
  });
  return new DropboxConnector({
    client,
    uploadChunkSize: o.uploadChunkSize,
    listPageSize: o.listPageSize,
  });
}
