import type { ConnectorDescriptor, ConnectorSettings } from '../connector-descriptor.js';
import { FatalError } from '../connector.errors.js';
import { normalizePath } from '../path.js';
import { LazyUploadSessionConnector } from '../lazy-connector.js';
import {
  DEFAULT_LIST_PAGE_SIZE,
  DEFAULT_PART_SIZE,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_REGION,
  s3Capabilities,
  S3_CAPABILITIES,
  S3_MAX_PART_SIZE,
  S3_MIN_PART_SIZE,
  S3_OPTIONS,
  type S3ConnectorOptions,
} from './s3.options.js';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Turns stored settings into typed options, failing fast on values S3 would refuse. */
export function s3OptionsFrom(settings: ConnectorSettings): S3ConnectorOptions {
  const { config, secrets } = settings;
  const bucket = text(config.bucket);
  if (!bucket) throw new FatalError('s3: the bucket is required');
  const accessKeyId = text(secrets.accessKeyId) ?? text(config.accessKeyId);
  const secretAccessKey = text(secrets.secretAccessKey) ?? text(config.secretAccessKey);
  if (!accessKeyId || !secretAccessKey)
    throw new FatalError('s3: the access key ID and the secret access key are required');
  const endpoint = text(config.endpoint);
  if (endpoint && !/^https?:\/\/[^/]/.test(endpoint))
    throw new FatalError(`s3: endpoint '${endpoint}' must be an http(s) URL`);
  const partSize = Number(config.partSize ?? DEFAULT_PART_SIZE);
  if (!Number.isInteger(partSize) || partSize < S3_MIN_PART_SIZE || partSize > S3_MAX_PART_SIZE)
    throw new FatalError(`s3: partSize must be ${S3_MIN_PART_SIZE}..${S3_MAX_PART_SIZE} bytes`);
  const queueSize = Number(config.queueSize ?? DEFAULT_QUEUE_SIZE);
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 16)
    throw new FatalError('s3: queueSize must be 1..16');
  const listPageSize = Number(config.listPageSize ?? DEFAULT_LIST_PAGE_SIZE);
  if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000)
    throw new FatalError('s3: listPageSize must be 1..1000');
  return {
    endpoint,
    bucket,
    prefix: normalizePath(text(config.prefix) ?? ''),
    region: text(config.region) ?? DEFAULT_REGION,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: config.forcePathStyle === true,
    partSize,
    queueSize,
    listPageSize,
    contentMd5: config.contentMd5 === true ? 'always' : 'small',
  };
}

export const s3ConnectorDescriptor: ConnectorDescriptor = {
  kind: 's3',
  displayName: 'S3-compatible storage',
  description: 'A bucket on Amazon S3 or an S3-compatible service: Backblaze B2, Wasabi, MinIO...',
  options: S3_OPTIONS,
  capabilities: S3_CAPABILITIES,
  requestHosts: ['amazonaws.com'], // Amazon S3 when no endpoint is set
  // Settings are checked now; @aws-sdk/client-s3 is imported on the connector's first call. The
  // wrapper keeps discardUploadSession: without it an unfinished multipart upload of a file that
  // changed or vanished was never aborted, its parts billed forever.
  create: (settings, ctx) => {
    const o = s3OptionsFrom(settings);
    return new LazyUploadSessionConnector(
      's3',
      s3Capabilities(o.partSize, o.listPageSize),
      async () => (await import('./s3.factory.js')).createS3Connector(settings, ctx),
    );
  },
};
