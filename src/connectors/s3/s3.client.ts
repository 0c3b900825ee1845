import { Agent as HttpAgent, type Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { Pacer } from '../pacer/pacer.js';
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
   * The same account and sockets, with the middleware stack resolved once per command class
   * (the SDK's `cacheMiddleware`) instead of on every send: about a third of the SDK's CPU per
   * small PutObject (issue #21). Such a handler is built without per-call options, so a call on
   * it cannot take an AbortSignal: only small single PutObjects go through it (putSmall), where
   * waiting out the request after an abort costs milliseconds. Every call sent with options on
   * a cached client would drop its cache, hence a client of its own.
   */
  private readonly cached: S3Client;

  constructor(
    options: S3ConnectorOptions,
    readonly pacer: Pacer,
    agents?: { httpAgent: Agent; httpsAgent: Agent },
  ) {
    // One keep-alive socket pool for both clients (the SDK would make one per client).
    const shared = agents ?? {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
    };
    this.s3 = createSdkClient(options, shared, false);
    this.cached = createSdkClient(options, shared, true);
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

  /**
   * A PutObject of a small body, sent on the client that resolved its middleware once. An abort
   * rejects at once; the request itself runs to its end (the caller must not reuse the body's
   * memory before `settled` resolves).
   */
  putSmall(
    input: PutObjectCommandInput,
    signal?: AbortSignal,
  ): { out: Promise<PutObjectCommandOutput>; settled: Promise<unknown> } {
    const sent = this.cached.send(new PutObjectCommand(input));
    const settled = sent.catch(() => undefined);
    if (!signal) return { out: sent, settled };
    return {
      out: new Promise<PutObjectCommandOutput>((resolve, reject) => {
        const onAbort = () => reject(signal.reason ?? new Error('aborted'));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        sent.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      }),
      settled,
    };
  }

  close(): void {
    this.cached.destroy();
    this.s3.destroy();
  }
}

function createSdkClient(
  options: S3ConnectorOptions,
  agents: { httpAgent: Agent; httpsAgent: Agent },
  cacheMiddleware: boolean,
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
    cacheMiddleware,
  });
  // The SDK's logger middleware filters every request's input and answer for its log (a walk
  // of the operation's schema) even with no logger configured, as here: ~4 % of the SDK's time
  // per small PutObject in the profiles (issue #21). Nothing is logged either way.
  client.middlewareStack.remove('loggerMiddleware');
  // Added to the client, not per command: a cached handler never sees a command's own middleware.
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
