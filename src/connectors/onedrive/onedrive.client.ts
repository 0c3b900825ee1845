import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  ResponseType,
  TelemetryHandler,
  type Context,
  type GraphRequest,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { AuthExpiredError } from '../connector.errors.js';
import type { Pacer } from '../pacer/pacer.js';
import type { OneDriveTokenManager } from './onedrive.auth.js';
import { isUnauthorized, mapGraphError } from './onedrive.errors.js';
import { DEFAULT_GRAPH_BASE_URL } from './onedrive.options.js';

/** Graph hosts the SDK already recognises as its own (it adds the bearer only there). */
const KNOWN_GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'graph.microsoft.de',
  'microsoftgraph.chinacloudapi.cn',
  'canary.graph.microsoft.com',
]);

/**
 * Routes every absolute https URL to a plain-http Graph endpoint (a local emulator or proxy),
 * keeping path and query. The SDK builds https URLs and authenticates only https Graph hosts, and
 * it mangles absolute http URLs (protocols/onedrive.md section 1, "setup A"); so with an http
 * `graphBaseUrl` the SDK keeps its default https base and this middleware, placed right before
 * the network handler, rewrites the target. Upload, download and monitor URLs the service hands
 * out go the same way. The original host travels in X-Forwarded-Host.
 */
class RewriteToPlainHttp implements Middleware {
  private next?: Middleware;

  constructor(private readonly target: URL) {}

  async execute(context: Context): Promise<void> {
    if (typeof context.request === 'string' && context.request.startsWith('https://')) {
      const url = new URL(context.request);
      const originalHost = url.host;
      const rewritten = `${this.target.protocol}//${this.target.host}${url.pathname}${url.search}`;
      context.request = rewritten;
      const options = (context.options ??= {});
      const headers = (options.headers ?? {}) as Record<string, string>;
      options.headers = { ...headers, 'X-Forwarded-Host': originalHost };
    }
    await this.next!.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * Hands a binary request body (a fragment, a simple upload) to fetch as a one-chunk stream of the
 * same bytes, with its Content-Length. Global fetch (undici) copies an ArrayBufferView body into
 * a fresh ArrayBuffer on every request: one more fragment of memory per PUT, left to the garbage
 * collector (measured: some 60 MiB above the fragment while uploading 512 MiB). The stream is
 * written to the socket as is. The caller's options are restored afterwards, so a handler that
 * sends again (redirects) starts from the bytes, not from a spent stream.
 */
class StreamBinaryBody implements Middleware {
  private next?: Middleware;

  async execute(context: Context): Promise<void> {
    const original = context.options;
    const body = original?.body;
    if (!original || !(body instanceof Uint8Array) || body.byteLength === 0) {
      return this.next!.execute(context);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((original.headers ?? {}) as Record<string, string>)) {
      if (k.toLowerCase() !== 'content-length') headers[k] = v;
    }
    headers['Content-Length'] = String(body.byteLength);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    context.options = { ...original, headers, body: stream, duplex: 'half' };
    try {
      await this.next!.execute(context);
    } finally {
      context.options = original;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

export interface OneDriveClientOptions {
  graphBaseUrl: string;
  tokens: OneDriveTokenManager;
  pacer: Pacer;
}

/**
 * Thin wrapper over the Graph SDK: every call goes through the pacer, gets a fresh token first,
 * and on 401 refreshes once and retries, then gives up with AuthExpiredError. No SDK RetryHandler:
 * the pacer owns retries (it honours Retry-After with the injected clock), and the SDK handler
 * would sleep on its own and skip upload fragments anyway.
 */
export class OneDriveClient {
  readonly sdk: Client;

  constructor(private readonly o: OneDriveClientOptions) {
    const base = new URL(o.graphBaseUrl || DEFAULT_GRAPH_BASE_URL);
    const chain: Middleware[] = [
      new AuthenticationHandler(o.tokens),
      new RedirectHandler(new RedirectHandlerOptions()),
      new TelemetryHandler(),
    ];
    let baseUrl: string | undefined;
    let customHosts: Set<string> | undefined;
    if (base.protocol === 'http:') {
      chain.push(new RewriteToPlainHttp(base));
    } else {
      baseUrl = `${base.protocol}//${base.host}/`;
      // Bare host names without port, as a Set: anything else never matches (section 1).
      if (!KNOWN_GRAPH_HOSTS.has(base.hostname)) customHosts = new Set([base.hostname]);
    }
    chain.push(new StreamBinaryBody(), new HTTPMessageHandler());
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext?.(chain[i + 1]!);
    this.sdk = Client.initWithMiddleware({
      middleware: chain[0]!,
      ...(baseUrl ? { baseUrl } : {}),
      ...(customHosts ? { customHosts } : {}),
    });
  }

  /** A request builder, bound to the caller's signal. */
  api(pathOrUrl: string, signal?: AbortSignal): GraphRequest {
    const req = this.sdk.api(pathOrUrl);
    if (signal) req.option('signal', signal);
    return req;
  }

  /** Runs `fn` under the pacer with a fresh token; maps SDK errors; one refresh on 401. */
  async call<T>(
    label: string,
    what: string,
    fn: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.o.pacer.call(label, () => this.once(what, fn, signal), signal);
  }

  /** Like `call` but without the pacer: for steps whose retry the caller drives itself. */
  async once<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const token = await this.o.tokens.ensureFresh(signal);
    try {
      return await fn();
    } catch (e) {
      if (!isUnauthorized(e)) throw mapGraphError(e, what);
    }
    await this.o.tokens.refresh(token, signal);
    try {
      return await fn();
    } catch (e) {
      if (isUnauthorized(e)) {
        throw new AuthExpiredError(
          'OneDrive rejected a freshly refreshed access token; re-authentication needed',
          { cause: e },
        );
      }
      throw mapGraphError(e, what);
    }
  }

  /** Raw fetch Response (status, headers, web body stream) for downloads and monitors. */
  raw(req: GraphRequest): GraphRequest {
    return req.responseType(ResponseType.RAW);
  }
}
