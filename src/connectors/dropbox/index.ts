import type {
  ConnectorContext,
  ConnectorDescriptor,
  ConnectorSettings,
} from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { DropboxClient } from './dropbox.client.js';
import { DROPBOX_CAPABILITIES, DropboxConnector } from './dropbox.connector.js';
import type { FetchLike } from './dropbox.fetch.js';
import { createDropboxOAuthFlow } from './dropbox.oauth.js';
import {
  DEFAULT_LIST_PAGE_SIZE,
  DEFAULT_UPLOAD_CHUNK_SIZE,
  DROPBOX_API_BASE_URL,
  DROPBOX_CONTENT_BASE_URL,
  DROPBOX_MAX_REQUEST_BYTES,
  DROPBOX_NOTIFY_BASE_URL,
  DROPBOX_OPTIONS,
  type DropboxConnectorOptions,
} from './dropbox.options.js';
import { FatalError } from '../connector.errors.js';
import type { PacerOptions } from '../pacer/pacer.js';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Turns stored settings into typed options, failing fast on values Dropbox would refuse. */
export function dropboxOptionsFrom(settings: ConnectorSettings): DropboxConnectorOptions {
  const { config, secrets } = settings;
  const clientId = text(config.clientId);
  if (!clientId) throw new FatalError('dropbox: the app key (clientId) is required');
  const chunk = Number(config.uploadChunkSize ?? DEFAULT_UPLOAD_CHUNK_SIZE);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > DROPBOX_MAX_REQUEST_BYTES) {
    throw new FatalError(
      `dropbox: uploadChunkSize must be 1..${DROPBOX_MAX_REQUEST_BYTES} bytes (a multiple of 4 MiB is best)`,
    );
  }
  const page = Number(config.listPageSize ?? DEFAULT_LIST_PAGE_SIZE);
  if (!Number.isInteger(page) || page < 1 || page > 2000)
    throw new FatalError('dropbox: listPageSize must be 1..2000');
  const expires = text(secrets.accessTokenExpiresAt);
  return {
    clientId,
    clientSecret: text(secrets.clientSecret) ?? text(config.clientSecret),
    tokens: {
      refreshToken: text(secrets.refreshToken),
      accessToken: text(secrets.accessToken),
      accessTokenExpiresAt: expires ? new Date(expires) : undefined,
    },
    hosts: {
      api: text(config.apiBaseUrl) ?? DROPBOX_API_BASE_URL,
      content: text(config.contentBaseUrl) ?? DROPBOX_CONTENT_BASE_URL,
      notify: text(config.notifyBaseUrl) ?? DROPBOX_NOTIFY_BASE_URL,
    },
    uploadChunkSize: chunk,
    listPageSize: page,
  };
}

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

export const dropboxConnectorDescriptor: ConnectorDescriptor = {
  kind: 'dropbox',
  displayName: 'Dropbox',
  description: 'A Dropbox account, through your own Dropbox app (API v2).',
  options: DROPBOX_OPTIONS,
  capabilities: DROPBOX_CAPABILITIES,
  create: (settings, ctx) => createDropboxConnector(settings, ctx),
  oauth: createDropboxOAuthFlow(),
};
