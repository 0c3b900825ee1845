import type { ConnectorContext, ConnectorSettings } from '../connector-descriptor.js';
import { Pacer, type PacerOptions } from '../pacer/pacer.js';
import { s3OptionsFrom } from './index.js';
import { S3ApiClient } from './s3.client.js';
import { S3Connector } from './s3.connector.js';

/** Builds the connector; pacer options are for tests (fast backoff). */
export function createS3Connector(
  settings: ConnectorSettings,
  ctx: ConnectorContext,
  extras: { pacer?: PacerOptions } = {},
): S3Connector {
  const options = s3OptionsFrom(settings);
  const pacer = new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry, ...extras.pacer });
  // A non-admin's endpoint: every connection is checked against the outbound address policy.
  const agents = ctx.outboundAgent && {
    httpAgent: ctx.outboundAgent('http:'),
    httpsAgent: ctx.outboundAgent('https:'),
  };
  return new S3Connector(new S3ApiClient(options, pacer, agents), options);
}
