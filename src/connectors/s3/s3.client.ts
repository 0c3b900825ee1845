import { Agent as HttpAgent, type Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type PutObjectCommandOutput } from '@aws-sdk/client-s3';
import type { Pacer } from '../pacer/pacer.js';
import { DirectPut, type DirectPutInput } from './s3.direct-put.js';
import { mapS3Error } from './s3.errors.js';
import { META_SHA256 } from './s3.mapper.js';
import type { S3ConnectorOptions } from './s3.options.js';

/**
 * Sockets kept per endpoint: the transfer pool may run 4x the task's concurrency in small files
 * (pool.ts), each with one request in flight, plus multipart parts (queueSize per large file).
 */
const MAX_SOCKETS = 64;

/** The SDK client plus the pacer every call goes through; errors leave it already mapped. */
export class S3ApiClient {
  /** Every call, multipart parts included (a part is a Buffer: the pacer may send it again). */
  readonly s3: S3Client;
  /**
   * Small single PutObjects of a whole buffer, signed with the SDK's signer and sent without its
   * middleware stack, on the same keep-alive sockets (s3.direct-put.ts). The SDK client it
   * replaced for them (the same client with `cacheMiddleware`) still cost ~1 ms of CPU per
   * request and could take no AbortSignal; this path takes one.
   */
  private readonly direct: DirectPut;

  constructor(
    options: S3ConnectorOptions,
    readonly pacer: Pacer,
    agents?: { httpAgent: Agent; httpsAgent: Agent },
  ) {
    // One keep-alive socket pool for the SDK and the direct PUTs (the SDK would make its own).
    const shared = agents ?? {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
    };
    this.s3 = createSdkClient(options, shared);
    this.direct = new DirectPut(
      this.s3,
      options.bucket,
      options.endpoint,
      options.forcePathStyle,
      shared,
    );
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

  /** Whether putDirect can be used for this bucket (false: the endpoint wants the SDK). */
  canPutDirect(): Promise<boolean> {
    return this.direct.ready();
  }

  /**
   * A PutObject of a whole buffer without the SDK's middleware (DirectPut.send): `out` is the
   * answer, `settled` resolves once the request no longer reads the body's memory. Call only
   * after canPutDirect() resolved true; errors are the SDK's shapes (map them with call()).
   */
  putDirect(
    input: DirectPutInput,
    signal?: AbortSignal,
  ): { out: Promise<PutObjectCommandOutput>; settled: Promise<void> } {
    return this.direct.send(input, signal);
  }

  close(): void {
    this.s3.destroy();
  }
}

function createSdkClient(
  options: S3ConnectorOptions,
  agents: { httpAgent: Agent; httpsAgent: Agent },
): S3Client {
  const client = new S3Client({
    requestHandler: agents,
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
  // The SDK's logger middleware filters every request's input and answer for its log (a walk
  // of the operation's schema) even with no logger configured, as here: ~4 % of the SDK's time
  // per small PutObject in the profiles (issue #21). Nothing is logged either way.
  client.middlewareStack.remove('loggerMiddleware');
  client.middlewareStack.add(
    (next, context) => (args) => {
      signWithKnownPayloadHash(context.commandName, args.request);
      return next(args);
    },
    { step: 'build', name: 'cbePayloadSha256' },
  );
  return client;
}

const SHA256_HEADER = `x-amz-meta-${META_SHA256}`;

/**
 * A PutObject whose body we hashed whole carries that SHA-256 in its metadata: it becomes the
 * signed payload hash (x-amz-content-sha256) too, so the SigV4 signer does not hash the body a
 * second time (it uses a header already there) and S3 checks the body against it. Only
 * PutObject with a whole-buffer body: a CopyObject carries the same metadata with no body.
 */
function signWithKnownPayloadHash(commandName: string | undefined, req: unknown): void {
  const request = req as { headers?: Record<string, string>; body?: unknown } | undefined;
  const sha = request?.headers?.[SHA256_HEADER];
  if (
    commandName === 'PutObjectCommand' &&
    sha !== undefined &&
    /^[0-9a-f]{64}$/.test(sha) &&
    request?.body instanceof Uint8Array
  )
    request.headers!['x-amz-content-sha256'] = sha;
}
