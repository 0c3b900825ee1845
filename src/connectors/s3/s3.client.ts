import { S3Client } from '@aws-sdk/client-s3';
import type { Pacer } from '../pacer/pacer.js';
import { mapS3Error } from './s3.errors.js';
import type { S3ConnectorOptions } from './s3.options.js';

/** The SDK client plus the pacer every call goes through; errors leave it already mapped. */
export class S3ApiClient {
  readonly s3: S3Client;
  /**
   * For multipart parts only: lib-storage sends each part once, and the part is a Buffer it holds,
   * so the SDK's own retry strategy (throttling, 5xx, broken sockets) retries it from memory.
   */
  readonly partsS3: S3Client;

  constructor(
    options: S3ConnectorOptions,
    readonly pacer: Pacer,
  ) {
    this.s3 = createSdkClient(options, 1);
    this.partsS3 = createSdkClient(options, 5);
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
    this.partsS3.destroy();
  }
}

function createSdkClient(options: S3ConnectorOptions, maxAttempts: number): S3Client {
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
    },
    // 1 for calls through the pacer, which retries (and logs) what is retryable itself.
    maxAttempts,
    // Since 3.729 the SDK adds CRC32 checksums and aws-chunked trailers to every upload by
    // default; B2, Wasabi, older MinIO and s3rver reject or mangle them. Content-MD5 (single
    // PUT) and the multipart ETag check cover integrity instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
