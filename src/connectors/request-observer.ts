import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import type { Connector } from './connector.js';

/**
 * Who is asking, for the metrics: every HTTP request a connector makes is told to the observers
 * with the connector's kind and the status the server answered, and every retry of the Pacer with
 * its reason.
 *
 * Connectors speak HTTP through four stacks (fetch, the AWS SDK, the webdav library, each with its
 * own agent), so the requests are not counted in each: Node publishes every request of `fetch`
 * (undici) and of `node:http` on diagnostics channels, and the connector's kind travels with the
 * call in an AsyncLocalStorage entered by `observed()` around each method of the connector. A
 * request made outside a connector call (webhooks, mail) has no kind and is not counted.
 * SFTP speaks SSH, not HTTP: it reports no requests, only retries.
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

interface CallScope {
  cloud: string;
  /** The connector's state, shared by its calls. */
  connector: { last?: RemoteAnswer };
  last?: RemoteAnswer;
}

const scope = new AsyncLocalStorage<CallScope>();
const observers = new Set<ConnectorTrafficObserver>();
/** The scope of each request, taken when it was created (its answer arrives in another context). */
const requestScopes = new WeakMap<object, CallScope>();
/** Errors thrown by a connector call and connectors, with the last answer of their server. */
const remoteAnswers = new WeakMap<object, RemoteAnswer>();
const connectorStates = new WeakMap<object, { last?: RemoteAnswer }>();

/**
 * The server's last answer behind an error a connector threw, or the last answer a connector
 * got: the host and status to name, never the server's own text.
 */
export function remoteAnswerOf(errorOrConnector: unknown): RemoteAnswer | undefined {
  if (!errorOrConnector || typeof errorOrConnector !== 'object') return undefined;
  return remoteAnswers.get(errorOrConnector) ?? connectorStates.get(errorOrConnector)?.last;
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
  const s = scope.getStore();
  const request = (message as { request?: object }).request;
  if (s && request) requestScopes.set(request, s);
}

function answered(message: unknown): void {
  const m = message as { request?: object; response?: { statusCode?: number } };
  const s = m.request && requestScopes.get(m.request);
  if (!s || !m.request) return;
  requestScopes.delete(m.request);
  const status = m.response?.statusCode;
  const host = hostOf(m.request);
  if (status !== undefined && host) {
    s.last = { host, status };
    s.connector.last = s.last;
  }
  emit({ type: 'request', cloud: s.cloud, status: status ?? 'error' });
}

function failed(message: unknown): void {
  const request = (message as { request?: object }).request;
  const s = request && requestScopes.get(request);
  if (!s || !request) return;
  requestScopes.delete(request);
  emit({ type: 'request', cloud: s.cloud, status: 'error' });
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

/** Told by the Pacer: a retry of the connector whose call is running. */
export function reportRetry(reason: string): void {
  const s = scope.getStore();
  if (s && observers.size > 0) emit({ type: 'retry', cloud: s.cloud, reason });
}

function noted<T>(s: CallScope, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    if (s.last && e && typeof e === 'object' && !remoteAnswers.has(e)) remoteAnswers.set(e, s.last);
    throw e;
  });
}

function inScope(s: CallScope, result: unknown): unknown {
  // An async iterable (a listing) runs its body on each next(), in the caller's context.
  if (
    result &&
    typeof result === 'object' &&
    !(result instanceof Readable) &&
    typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  ) {
    const source = result as AsyncIterable<unknown>;
    return {
      [Symbol.asyncIterator]() {
        const it = scope.run(s, () => source[Symbol.asyncIterator]());
        return {
          next: (...a: [] | [unknown]) =>
            noted(
              s,
              scope.run(s, () => it.next(...a)),
            ),
          return: (v?: unknown) =>
            scope.run(
              s,
              () => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v }),
            ),
        };
      },
    };
  }
  return result instanceof Promise ? noted(s, result) : result;
}

/**
 * The connector with each of its methods run in its kind's scope. Methods are called on the
 * connector itself (private fields keep working); `'changes' in c` and the like still tell the
 * optional interfaces apart.
 */
export function observed<C extends Connector>(cloud: string, connector: C): C {
  const state: { last?: RemoteAnswer } = {};
  const proxy = new Proxy(connector, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const s: CallScope = { cloud, connector: state };
        return scope.run(s, () =>
          inScope(s, (value as (...a: unknown[]) => unknown).apply(target, args)),
        );
      };
    },
  });
  connectorStates.set(proxy, state);
  return proxy;
}
