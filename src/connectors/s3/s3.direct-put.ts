import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { PutObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';

/** What a direct PutObject sends: a whole body whose digests the caller already has. */
export interface DirectPutInput {
  key: string;
  /** The whole body: one buffer, or its pieces in order (written with one writev). */
  body: Buffer | readonly Buffer[];
  /** Content-MD5, base64: S3 checks the body against it. */
  md5Base64?: string;
  /** SHA-256 of the body, hex: signed as x-amz-content-sha256, which S3 checks too. */
  sha256Hex: string;
  /** x-amz-meta-* (keys without the prefix). */
  metadata: Record<string, string>;
  contentType: string;
}

/** Where a bucket's objects are and how to sign for them, resolved once by the SDK's own rules. */
interface Route {
  protocol: 'http:' | 'https:';
  hostname: string;
  port?: number;
  /** Host header, port included when not the protocol's default. */
  host: string;
  /** The endpoint's path for the bucket, without a trailing '/': the key's path follows. */
  basePath: string;
  signer: Signer;
  signingRegion: string;
  signingService: string;
}

type Signer = Awaited<ReturnType<S3Client['config']['signer']>>;
type SignedRequest = Awaited<ReturnType<Signer['sign']>>;

/** How much of an error answer is read to find its <Code> and <Message>. */
const ERROR_BODY_MAX = 64 * 1024;
/**
 * Bodies over this size are sent with `Expect: 100-continue` (as the SDK and rclone do): the
 * headers go first and the body only once S3 said "go on", so a refused PUT (bad credentials, a
 * missing bucket, a redirect) answers before megabytes are sent, and its answer is read instead
 * of a broken pipe.
 */
const EXPECT_CONTINUE_FROM = 1024 * 1024;
/** How long to wait for "100 Continue" before sending the body anyway (a server that ignores it). */
const CONTINUE_TIMEOUT_MS = 1000;

/**
 * A single PutObject of a whole buffer without the SDK's middleware stack (issue #21). Even with
 * the stack resolved once (`cacheMiddleware`), the SDK spent ~1 ms of CPU per request on a small
 * PUT: endpoint rules, the schema serde, a new SigV4 signer built from a copy of the client's
 * whole config (so the credentials' HMAC was redone every time), the retry middleware's UUID,
 * the user agent; ~44 % of the connector's CPU per small file in the profiles, on a machine where
 * the S3 server shares the cores. Here the endpoint is resolved once by the SDK's own endpoint
 * rules (`config.endpointProvider`), the request is signed by the SDK's own SigV4 signer
 * (`config.signer`, obtained once), and sent with Node's http on the client's keep-alive agent.
 * What S3 checks is unchanged: Content-MD5, the signed payload hash, the metadata. Everything else
 * (multipart, GET, LIST, HEAD, copies, larger single PUTs) keeps the SDK.
 *
 * Errors leave as the SDK's would for mapS3Error: an Error named by S3's <Code>, with
 * `$metadata.httpStatusCode` and `$response.headers` (Retry-After); a broken socket or an abort
 * as Node's own error. Retries are the pacer's, as for every call. Falls back to nothing: when
 * the endpoint needs another signing scheme (SigV4a, S3 Express) `ready()` is false and the
 * caller uses the SDK.
 */
export class DirectPut {
  private route: Promise<Route | undefined> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly endpoint: string | undefined,
    private readonly forcePathStyle: boolean | undefined,
    private readonly agents: { httpAgent: Agent; httpsAgent: Agent },
  ) {}

  /** Whether this bucket's PUTs can go direct (resolved once; false means: use the SDK). */
  async ready(): Promise<boolean> {
    this.route ??= this.resolveRoute().catch(() => undefined);
    return (await this.route) !== undefined;
  }

  /**
   * Sends the PUT. `out` settles with the answer (or the error); `settled` when the request is
   * over and the body's memory is no longer read by the socket (after an abort too).
   */
  send(
    input: DirectPutInput,
    signal?: AbortSignal,
  ): { out: Promise<PutObjectCommandOutput>; settled: Promise<void> } {
    let closed!: () => void;
    const settled = new Promise<void>((resolve) => (closed = resolve));
    const request = { made: false };
    const out = this.sendOnce(input, signal, request, closed);
    // Failed before the request existed (signing, an abort): nothing reads the body.
    void out.catch(() => {
      if (!request.made) closed();
    });
    return { out, settled };
  }

  private async sendOnce(
    input: DirectPutInput,
    signal: AbortSignal | undefined,
    request: { made: boolean },
    onClose: () => void,
  ): Promise<PutObjectCommandOutput> {
    signal?.throwIfAborted();
    const route = await this.route;
    if (!route) throw new Error('the direct PUT is not available for this bucket');
    const pieces: readonly Buffer[] = Buffer.isBuffer(input.body) ? [input.body] : input.body;
    let length = 0;
    for (const p of pieces) length += p.length;
    const headers: Record<string, string> = {
      host: route.host,
      'content-type': input.contentType,
      'content-length': String(length),
      'x-amz-content-sha256': input.sha256Hex,
    };
    if (input.md5Base64 !== undefined) headers['content-md5'] = input.md5Base64;
    for (const [k, v] of Object.entries(input.metadata)) headers[`x-amz-meta-${k}`] = v;
    const signed: SignedRequest = await route.signer.sign(
      {
        method: 'PUT',
        protocol: route.protocol,
        hostname: route.hostname,
        port: route.port,
        path: `${route.basePath}/${encodeKeyPath(input.key)}`,
        query: {},
        headers,
        // Not hashed: the x-amz-content-sha256 header above is the payload hash it signs.
        body: undefined,
      },
      {
        // The SDK corrects its clock from a skewed answer (RequestTimeTooSkewed) on any call.
        signingDate: new Date(Date.now() + (this.s3.config.systemClockOffset ?? 0)),
        signingRegion: route.signingRegion,
        signingService: route.signingService,
      },
    );
    signal?.throwIfAborted();
    const send = route.protocol === 'https:' ? httpsRequest : httpRequest;
    const expectContinue = length > EXPECT_CONTINUE_FROM;
    return new Promise<PutObjectCommandOutput>((resolve, reject) => {
      let bodySent = false;
      const sendBody = () => {
        if (bodySent) return;
        bodySent = true;
        clearTimeout(timer);
        req.cork();
        for (const p of pieces) req.write(p);
        req.end();
        req.uncork();
      };
      const req = send(
        {
          method: 'PUT',
          protocol: route.protocol,
          hostname: route.hostname,
          port: route.port,
          path: signed.path,
          // Not signed (no signer signs Expect): added after.
          headers: expectContinue ? { ...signed.headers, expect: '100-continue' } : signed.headers,
          agent: route.protocol === 'https:' ? this.agents.httpsAgent : this.agents.httpAgent,
          signal,
        },
        (res) => {
          // A final answer before "100 Continue" (a refusal): the body is never sent, and the
          // socket, which still expects it, is not reused.
          const refused = !bodySent;
          if (refused) {
            bodySent = true;
            clearTimeout(timer);
          }
          answer(res)
            .then(resolve, reject)
            .finally(() => {
              if (refused) req.destroy();
            });
        },
      );
      request.made = true;
      // on, not once: a refused request destroyed after its answer may report an error too.
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.once('close', () => {
        clearTimeout(timer);
        onClose();
      });
      const timer = expectContinue ? setTimeout(sendBody, CONTINUE_TIMEOUT_MS) : undefined;
      if (!expectContinue) {
        sendBody();
        return;
      }
      req.once('continue', sendBody);
      req.flushHeaders();
    });
  }

  private async resolveRoute(): Promise<Route | undefined> {
    const config = this.s3.config;
    const region = await config.region();
    const endpoint = config.endpointProvider({
      Bucket: this.bucket,
      Region: region,
      UseFIPS: await config.useFipsEndpoint(),
      UseDualStack: await config.useDualstackEndpoint(),
      ForcePathStyle: this.forcePathStyle,
      Accelerate: config.useAccelerateEndpoint,
      Endpoint: this.endpoint,
    });
    const scheme = (endpoint.properties?.authSchemes as AuthScheme[] | undefined)?.[0];
    // SigV4a (multi-region access points) and S3 Express sessions sign otherwise: the SDK's.
    if (scheme && scheme.name !== 'sigv4') return undefined;
    if (endpoint.headers && Object.keys(endpoint.headers).length > 0) return undefined;
    const url = endpoint.url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.search !== '') return undefined;
    const signingRegion = scheme?.signingRegion ?? region;
    const signingService = scheme?.signingName ?? 's3';
    const signer = await config.signer({
      name: 'sigv4',
      signingName: signingService,
      signingRegion,
      properties: {},
    });
    return {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      host: url.host,
      basePath: url.pathname.replace(/\/+$/, ''),
      signer,
      signingRegion,
      signingService,
    };
  }
}

interface AuthScheme {
  name?: string;
  signingName?: string;
  signingRegion?: string;
}

/**
 * The key as the SDK puts it in the path (the greedy label `{Key+}`): each '/'-separated segment
 * URI-encoded, with the characters encodeURIComponent leaves (!'()*) encoded too.
 */
export function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/** A 2xx answer's output; otherwise an error shaped like the SDK's for mapS3Error. */
async function answer(res: IncomingMessage): Promise<PutObjectCommandOutput> {
  const status = res.statusCode ?? 0;
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const $metadata = {
    httpStatusCode: status,
    requestId: header('x-amz-request-id'),
    extendedRequestId: header('x-amz-id-2'),
  };
  if (status >= 200 && status < 300) {
    // Read to the end, so the keep-alive socket goes back to the agent.
    res.resume();
    await new Promise<void>((resolve, reject) => {
      res.once('end', resolve);
      res.once('error', reject);
    });
    return {
      $metadata,
      ETag: header('etag'),
      ServerSideEncryption: header('x-amz-server-side-encryption') as
        PutObjectCommandOutput['ServerSideEncryption'] | undefined,
      SSECustomerAlgorithm: header('x-amz-server-side-encryption-customer-algorithm'),
      VersionId: header('x-amz-version-id'),
    };
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    if (bytes < ERROR_BODY_MAX) chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const xml = Buffer.concat(chunks).toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? statusName(status);
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? `HTTP ${status}`;
  throw Object.assign(new Error(message), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata,
    $response: { statusCode: status, headers: res.headers },
  });
}

/** What the SDK names an error answer without a body (as its HEAD errors). */
function statusName(status: number): string {
  if (status === 404) return 'NotFound';
  if (status === 403) return 'Forbidden';
  if (status === 400) return 'BadRequest';
  if (status === 503) return 'ServiceUnavailable';
  return 'UnknownError';
}
