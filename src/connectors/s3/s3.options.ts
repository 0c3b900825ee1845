import type { Capabilities } from '../capabilities.js';
import type { OptionSpec } from '../connector-descriptor.js';

export const MiB = 1024 * 1024;
/** S3 refuses parts under 5 MiB (except the last) and more than 10,000 parts per upload. */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PART_SIZE = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
/** Largest object S3 stores (5 TiB). */
export const S3_MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;
/** Largest object CopyObject accepts; above it the SHA-256 cannot be put into the metadata. */
export const S3_MAX_COPY_SIZE = 5 * 1024 * MiB;
export const DEFAULT_PART_SIZE = 5 * MiB;
export const DEFAULT_QUEUE_SIZE = 2;
export const DEFAULT_LIST_PAGE_SIZE = 1000;
export const DEFAULT_REGION = 'us-east-1';

export const S3_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'endpoint',
    label: 'Endpoint',
    help: 'S3 endpoint URL. Empty for Amazon S3; e.g. https://s3.us-west-004.backblazeb2.com (B2), https://s3.eu-central-1.wasabisys.com (Wasabi), http://minio.lan:9000 (MinIO).',
    type: 'string',
    target: 'server-url',
  },
  {
    key: 'bucket',
    label: 'Bucket',
    help: 'Name of an existing bucket.',
    type: 'string',
    required: true,
  },
  {
    key: 'prefix',
    label: 'Folder in the bucket',
    help: 'Optional key prefix the account is limited to, e.g. backups/laptop.',
    type: 'string',
    default: '',
  },
  {
    key: 'region',
    label: 'Region',
    help: 'Region of the bucket (us-east-1 when unsure; B2 and Wasabi name it in the endpoint).',
    type: 'string',
    default: DEFAULT_REGION,
  },
  {
    key: 'accessKeyId',
    label: 'Access key ID',
    help: 'Access key (B2: keyID).',
    type: 'string',
    required: true,
    secret: true,
  },
  {
    key: 'secretAccessKey',
    label: 'Secret access key',
    help: 'Secret key (B2: applicationKey).',
    type: 'string',
    required: true,
    secret: true,
  },
  {
    key: 'forcePathStyle',
    label: 'Path-style addressing',
    help: 'Address the bucket as endpoint/bucket instead of bucket.endpoint (MinIO and most self-hosted servers need it).',
    type: 'boolean',
    default: false,
  },
  {
    key: 'partSize',
    label: 'Multipart part size (bytes)',
    help: 'Bytes per uploaded part, 5 MiB to 5 GiB (grown automatically when a file of known size needs more than 10,000 parts). Memory per transfer is part size x (queue size + 1).',
    type: 'number',
    default: DEFAULT_PART_SIZE,
    advanced: true,
  },
  {
    key: 'queueSize',
    label: 'Parts in flight',
    help: 'Parts of one file uploaded at the same time.',
    type: 'number',
    default: DEFAULT_QUEUE_SIZE,
    advanced: true,
  },
  {
    key: 'contentMd5',
    label: 'Content-MD5 on every upload',
    help: 'Also send an MD5 of every file uploaded in one request, not only of files up to 1 MiB. Every upload is already signed with its SHA-256, which Amazon S3, MinIO, Ceph and most S3-compatible servers check before they store it; turn this on for a server that checks Content-MD5 but not the signed SHA-256 (costs an MD5 of every byte).',
    type: 'boolean',
    default: false,
    advanced: true,
  },
  {
    key: 'listPageSize',
    label: 'Listing page size',
    help: 'Keys per ListObjectsV2 page (1 to 1000).',
    type: 'number',
    default: DEFAULT_LIST_PAGE_SIZE,
    advanced: true,
  },
];

export interface S3ConnectorOptions {
  endpoint?: string;
  bucket: string;
  /** Key prefix without leading or trailing '/', '' for the whole bucket. */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  partSize: number;
  queueSize: number;
  listPageSize: number;
  /** Content-MD5 on every single PutObject, or only on bodies up to 1 MiB (s3.upload.ts). */
  contentMd5?: 'always' | 'small';
}

export function s3Capabilities(
  partSize = DEFAULT_PART_SIZE,
  listPageSize = DEFAULT_LIST_PAGE_SIZE,
): Capabilities {
  return {
    // md5: the ETag of single-PUT objects (S3 checked it against Content-MD5); sha256: written
    // into the object's metadata by this connector. Neither is reported by list().
    hashes: ['md5', 'sha256'],
    rangedReads: true,
    changeFeed: false,
    serverSideCopy: false,
    writable: true,
    preservesModifiedTime: false,
    maxFileSize: S3_MAX_OBJECT_SIZE,
    uploadChunkSize: partSize,
    listPageSize,
  };
}

export const S3_CAPABILITIES = s3Capabilities();
