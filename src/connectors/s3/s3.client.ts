import type { Agent } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import type { Pacer } from '../pacer/pacer.js';
import { mapS3Error } from './s3.errors.js';
import type { S3ConnectorOptions } from './s3.options.js';

/** The SDK client plus the pacer every call goes through; errors leave it already mapped. */
export class S3ApiClient {
  /** Every call, multipart parts included (a part is a Buffer: the pacer may send it again). */
  readonly s3: S3Client;

  constructor(
    options: S3ConnectorOptions,
    readonly pacer: Pacer,
    agents?: { httpAgent: Agent; httpsAgent: Agent },
  ) {
    this.s3 = createSdkClient(options, agents);
  }

  /** One S3 call through the pacer; `what` names the key in error messages. */
  call<T>(label: string, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.pacer.call(
      label,
      async () => {
        try {
          return await fn();
        } catch (e) {
          throw mapS3Error(e, what);
        }
      },
      signal,
    );
  }

  close(): void {
    this.s3.destroy();
  }
}

function createSdkClient(
  options: S3ConnectorOptions,
  agents?: { httpAgent: Agent; httpsAgent: Agent },
): S3Client {
  return new S3Client({
    ...(agents && { requestHandler: agents }),
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
    },
    // Every call goes through the pacer, which retries (and logs) what is retryable itself.
    maxAttempts: 1,
    // Since 3.729 the SDK adds CRC32 checksums and aws-chunked trailers to every upload by
    // default; B2, Wasabi, older MinIO and s3rver reject or mangle them. Content-MD5 (single
    // PUT) and the multipart ETag check cover integrity instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
