import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import type { Connector } from './connector.js';

/**
 * Who is asking, for the metrics: every HTTP request a connector makes is told to the observers
 * with the connector's kind and the status the server answered, and every retry of its Pacer with
 * its reason.
 *
 * Connectors speak HTTP through four stacks (fetch, the AWS SDK, the webdav library, each with its
 * own agent), so the requests are not counted in each: Node publishes every request of `fetch`
 * (undici) and of `node:http` on diagnostics channels, and a request is the connector's whose
 * servers it goes to. Each connector declares them (`connectorHosts`: the host and port of its
 * URL options, with their default values, and its provider's domains for the URLs its API hands
 * out: upload sessions, download redirects); a request to a subdomain of one counts too (S3
 * virtual-hosted buckets). Two kinds on one machine are told apart by port (the emulators on
 * 127.0.0.1 in tests); when two kinds name the very same host and port, the kind whose connector
 * was created last is counted. A request to a server no connector named (webhooks, mail) is not
 * counted. SFTP speaks SSH, not HTTP: it reports no requests, only retries (`retryReporter`).
 *
 * No async context is carried (issue #21): on Node 20 an enabled AsyncLocalStorage installs
 * promise hooks that every promise of the process pays for.
 */
export interface ConnectorRequestEvent {
  type: 'request';
  cloud: string;
  /** The HTTP status, or 'error' when no answer came (refused, reset, timed out). */
  status: number | 'error';
}

export interface ConnectorRetryEvent {
  type: 'retry';
  cloud: string;
  /** The error's code: RATE_LIMITED, TRANSIENT, ... */
  reason: string;
}

export type ConnectorTrafficEvent = ConnectorRequestEvent | ConnectorRetryEvent;
export type ConnectorTrafficObserver = (e: ConnectorTrafficEvent) => void;

/** The last answer of a server, to name in an error instead of echoing the server's body. */
export interface RemoteAnswer {
  /** host:port */
  host: string;
  status: number;
}

/** One server (host and port) some connector named, with the last answer it gave. */
interface Endpoint {
  /** The kind counted for its requests: the kind of the connector created last that named it. */
  cloud: string;
  last?: RemoteAnswer;
  /** Increases with every answer of any endpoint: which answer is newer, and newer than a call. */
  lastSeq: number;
}

const observers = new Set<ConnectorTrafficObserver>();
/** `hostname:port` (port empty for the scheme's default) -> the endpoint. */
const endpoints = new Map<string, Endpoint>();
/** The endpoint of each request in flight, taken when it was created. */
const requestEndpoints = new WeakMap<object, Endpoint>();
/** Errors thrown by a connector call, with the last answer of their server. */
const remoteAnswers = new WeakMap<object, RemoteAnswer>();
/** Each observed connector's endpoints. */
const connectorEndpoints = new WeakMap<object, readonly Endpoint[]>();
let answerSeq = 0;

/** The newest answer among `eps` given after answer number `after`. */
function newestAnswer(eps: readonly Endpoint[], after = 0): RemoteAnswer | undefined {
  let best: Endpoint | undefined;
  for (const ep of eps)
    if (ep.last && ep.lastSeq > after && (!best || ep.lastSeq > best.lastSeq)) best = ep;
  return best?.last;
}

/**
 * The server's last answer behind an error a connector threw, or the last answer a connector's
 * servers gave: the host and status to name, never the server's own text.
 */
export function remoteAnswerOf(errorOrConnector: unknown): RemoteAnswer | undefined {
  if (!errorOrConnector || typeof errorOrConnector !== 'object') return undefined;
  const answer = remoteAnswers.get(errorOrConnector);
  if (answer) return answer;
  const eps = connectorEndpoints.get(errorOrConnector);
  return eps && newestAnswer(eps);
}

const DEFAULT_PORTS: Record<string, string> = { '80': '', '443': '' };

/** `hostname:port` of a `host[:port]` string (the default ports of HTTP and HTTPS as none). */
function endpointKey(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host.toLowerCase());
  if (!m) return host.toLowerCase();
  const port = m[2] ?? '';
  return `${m[1]}:${DEFAULT_PORTS[port] ?? port}`;
}

/** The endpoint a request to `host` belongs to: the host itself, or a domain above it. */
function endpointOf(host: string): Endpoint | undefined {
  let key = endpointKey(host);
  for (;;) {
    const ep = endpoints.get(key);
    if (ep) return ep;
    const dot = key.indexOf('.');
    // Only names walk up (bucket.s3.amazonaws.com -> s3.amazonaws.com -> amazonaws.com).
    if (dot < 0 || /^[\d.]+:/.test(key) || key.startsWith('[')) return undefined;
    key = key.slice(dot + 1);
  }
}

function hostOf(request: object): string | undefined {
  const r = request as { origin?: unknown; host?: unknown; getHeader?: (n: string) => unknown };
  if (typeof r.origin === 'string') {
    try {
      return new URL(r.origin).host;
    } catch {
      return undefined;
    }
  }
  const header = typeof r.getHeader === 'function' ? r.getHeader('host') : undefined;
  if (typeof header === 'string') return header;
  return typeof r.host === 'string' ? r.host : undefined;
}

function emit(e: ConnectorTrafficEvent): void {
  for (const o of observers) {
    try {
      o(e);
    } catch {
      // An observer's failure never fails a transfer.
    }
  }
}

function remember(message: unknown): void {
  if (endpoints.size === 0) return;
  const request = (message as { request?: object }).request;
  if (!request) return;
  const host = hostOf(request);
  const ep = host === undefined ? undefined : endpointOf(host);
  if (ep) requestEndpoints.set(request, ep);
}

function answered(message: unknown): void {
  const m = message as { request?: object; response?: { statusCode?: number } };
  const ep = m.request && requestEndpoints.get(m.request);
  if (!ep || !m.request) return;
  requestEndpoints.delete(m.request);
  const status = m.response?.statusCode;
  const host = hostOf(m.request);
  if (status !== undefined && host) {
    ep.last = { host, status };
    ep.lastSeq = ++answerSeq;
  }
  emit({ type: 'request', cloud: ep.cloud, status: status ?? 'error' });
}

function failed(message: unknown): void {
  const request = (message as { request?: object }).request;
  const ep = request && requestEndpoints.get(request);
  if (!ep || !request) return;
  requestEndpoints.delete(request);
  emit({ type: 'request', cloud: ep.cloud, status: 'error' });
}

let subscribed = false;
function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics.subscribe('undici:request:create', remember);
  diagnostics.subscribe('undici:request:headers', answered);
  diagnostics.subscribe('undici:request:error', failed);
  diagnostics.subscribe('http.client.request.start', remember);
  diagnostics.subscribe('http.client.response.finish', answered);
  // A refused or reset connection counts as 'error' for node:http; fetch publishes its connect
  // failures without the request (undici:client:connectError), so those are not counted.
  diagnostics.subscribe('http.client.request.error', failed);
}

/** Subscribes to every connector's requests and retries; returns the unsubscribe function. */
export function observeConnectorTraffic(observer: ConnectorTrafficObserver): () => void {
  subscribe();
  observers.add(observer);
  return () => observers.delete(observer);
}

/** The retry listener to give a connector of `cloud` (its Pacer's `onRetry`), before `next`. */
export function retryReporter<E extends { error: { code: string } }>(
  cloud: string,
  next?: (e: E) => void,
): (e: E) => void {
  return (e) => {
    if (observers.size > 0) emit({ type: 'retry', cloud, reason: e.error.code });
    next?.(e);
  };
}

/**
 * `host[:port]` of every URL among `values` (http and https only), lowercased, for
 * `observed(..., hosts)`: a connector's configured endpoints.
 */
export function hostsOfUrls(values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || v === '') continue;
    try {
      const u = new URL(v);
      if (u.protocol === 'http:' || u.protocol === 'https:') out.push(u.host);
    } catch {
      // not a URL: not an endpoint
    }
  }
  return out;
}

function endpointsFor(cloud: string, hosts: readonly string[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const host of hosts) {
    const key = endpointKey(host);
    let ep = endpoints.get(key);
    if (!ep) endpoints.set(key, (ep = { cloud, lastSeq: 0 }));
    ep.cloud = cloud;
    if (!out.includes(ep)) out.push(ep);
  }
  return out;
}

function noted<T>(eps: readonly Endpoint[], since: number, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    if (e && typeof e === 'object' && !remoteAnswers.has(e)) {
      const last = newestAnswer(eps, since);
      if (last) remoteAnswers.set(e, last);
    }
    throw e;
  });
}

function withAnswers(eps: readonly Endpoint[], since: number, result: unknown): unknown {
  // A listing: its requests happen on each next().
  if (
    result &&
    typeof result === 'object' &&
    !(result instanceof Readable) &&
    typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  ) {
    const source = result as AsyncIterable<unknown>;
    return {
      [Symbol.asyncIterator]() {
        const it = source[Symbol.asyncIterator]();
        return {
          next: (...a: [] | [unknown]) => noted(eps, answerSeq, it.next(...a)),
          return: (v?: unknown) =>
            it.return?.(v) ?? Promise.resolve({ done: true as const, value: v }),
        };
      },
    };
  }
  return result instanceof Promise ? noted(eps, since, result) : result;
}

/**
 * The connector of `cloud`, whose servers are `hosts` (`host[:port]`; a name covers its
 * subdomains), with the requests to them counted for `cloud`, and each error its methods reject
 * with carrying the newest answer those servers gave during the call (`remoteAnswerOf`). A
 * connector without hosts (a local folder, SFTP) is returned as it is. Methods are called on the
 * connector itself (private fields keep working); `'changes' in c` and the like still tell the
 * optional interfaces apart.
 */
export function observed<C extends Connector>(
  cloud: string,
  connector: C,
  hosts: readonly string[],
): C {
  if (hosts.length === 0) return connector;
  const eps = endpointsFor(cloud, hosts);
  // One wrapper per method, not one per call.
  const wrapped = new WeakMap<object, unknown>();
  const proxy = new Proxy(connector, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function' || prop === 'constructor') return value;
      let w = wrapped.get(value);
      if (!w) {
        const fn = value as (...a: unknown[]) => unknown;
        w = (...args: unknown[]) => withAnswers(eps, answerSeq, fn.apply(target, args));
        wrapped.set(value, w);
      }
      return w;
    },
  });
  connectorEndpoints.set(proxy, eps);
  return proxy;
}
