import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connector } from '../../../src/connectors/connector.js';
import type {
  ConnectorDescriptor,
  OptionSpec,
} from '../../../src/connectors/connector-descriptor.js';
import { connectorHosts } from '../../../src/connectors/connector.registry.js';
import {
  observeConnectorTraffic,
  observed,
  remoteAnswerOf,
  retryReporter,
  type ConnectorTrafficEvent,
} from '../../../src/connectors/request-observer.js';

/** A server answering every request with the status in its path (`/404` -> 404). */
async function startServer(): Promise<{ server: Server; host: string; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(Number(/^\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200)).end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, host, url: `http://${host}` };
}

/** node:http GET with an optional Host header of its own; resolves with the status. */
function get(url: string, hostHeader?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: hostHeader ? { host: hostHeader } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A connector whose calls make the requests they are given (fetch or node:http). */
function fakeConnector(): Connector & {
  fetchStatus(url: string): Promise<number>;
  httpStatus(url: string, host?: string): Promise<number>;
  failAfter(url: string): Promise<never>;
} {
  return {
    name: 'fake',
    capabilities: {} as Connector['capabilities'],
    list: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('no')) }),
    }),
    stat: () => Promise.reject(new Error('unused')),
    read: () => Promise.reject(new Error('unused')),
    write: () => Promise.reject(new Error('unused')),
    remove: () => Promise.reject(new Error('unused')),
    async fetchStatus(url: string) {
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status;
    },
    httpStatus: (url: string, host?: string) => get(url, host),
    async failAfter(url: string): Promise<never> {
      await get(url);
      throw new Error('the connector gave up');
    },
  } as unknown as ReturnType<typeof fakeConnector>;
}

describe('request observer (no async context)', () => {
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;
  let other: Awaited<ReturnType<typeof startServer>>;
  let events: ConnectorTrafficEvent[];
  let stop: () => void;

  beforeAll(async () => {
    [a, b, other] = await Promise.all([startServer(), startServer(), startServer()]);
  });

  afterAll(async () => {
    for (const s of [a, b, other]) await new Promise<void>((r) => s.server.close(() => r()));
  });

  beforeEach(() => {
    events = [];
    stop = observeConnectorTraffic((e) => events.push(e));
  });

  afterEach(() => stop());

  it('should count each request by the kind of the connector whose server it went to when two kinds share an address on other ports', async () => {
    const sut1 = observed('alpha', fakeConnector(), [a.host]);
    const sut2 = observed('beta', fakeConnector(), [b.host]);

    // Both at once: nothing but the server tells them apart.
    await Promise.all([
      sut1.fetchStatus(`${a.url}/200`),
      sut2.httpStatus(`${b.url}/404`),
      sut1.httpStatus(`${a.url}/503`),
      sut2.fetchStatus(`${b.url}/200`),
    ]);

    const counted = events.map((e) => `${e.cloud} ${e.type === 'request' ? e.status : ''}`).sort();
    expect(counted).toEqual(['alpha 200', 'alpha 503', 'beta 200', 'beta 404']);
  });

  it('should not count a request to a server no connector named when made outside or inside a call', async () => {
    const sut = observed('alpha', fakeConnector(), [a.host]);

    await get(`${other.url}/200`);
    await sut.httpStatus(`${other.url}/200`);

    expect(events).toEqual([]);
  });

  it('should count a request to a subdomain of a named server when the API hands out such hosts', async () => {
    const port = (a.server.address() as AddressInfo).port;
    const sut = observed('alpha', fakeConnector(), [`example.test:${port}`]);

    await sut.httpStatus(`${a.url}/200`, `bucket.example.test:${port}`);

    expect(events).toEqual([{ type: 'request', cloud: 'alpha', status: 200 }]);
  });

  it('should attach the last answer of its server given during the call to an error a call rejects with', async () => {
    const sut = observed('alpha', fakeConnector(), [a.host]);

    const e = await sut.failAfter(`${a.url}/500`).catch((err: unknown) => err);

    expect(remoteAnswerOf(e)).toEqual({ host: a.host, status: 500 });
    expect(remoteAnswerOf(sut)).toEqual({ host: a.host, status: 500 });
  });

  it('should attach no answer when the server gave none during the call', async () => {
    const sut = observed('alpha', fakeConnector(), [a.host]);
    await sut.httpStatus(`${a.url}/500`);

    const e = await sut
      .list('', {})
      [Symbol.asyncIterator]()
      .next()
      .catch((err: unknown) => err);

    expect(e).toBeInstanceOf(Error);
    expect(remoteAnswerOf(e)).toBeUndefined();
  });

  it('should count a request for the kind created last when two kinds name the same server', async () => {
    observed('alpha', fakeConnector(), [a.host]);
    const sut = observed('beta', fakeConnector(), [a.host]);

    await sut.httpStatus(`${a.url}/200`);

    expect(events).toEqual([{ type: 'request', cloud: 'beta', status: 200 }]);
  });

  it('should return a connector that names no server as it is', () => {
    const connector = fakeConnector();

    expect(observed('local', connector, [])).toBe(connector);
  });

  it('should report a retry with the kind and the error code before the engine listener', () => {
    const heard: string[] = [];
    const sut = retryReporter('alpha', (e: { error: { code: string } }) =>
      heard.push(`engine ${e.error.code}`),
    );

    sut({ error: { code: 'RATE_LIMITED' } });

    expect(events).toEqual([{ type: 'retry', cloud: 'alpha', reason: 'RATE_LIMITED' }]);
    expect(heard).toEqual(['engine RATE_LIMITED']);
  });
});

describe('connectorHosts', () => {
  const option = (key: string, extra: Partial<OptionSpec>): OptionSpec => ({
    key,
    label: key,
    help: key,
    type: 'string',
    ...extra,
  });
  const descriptor = {
    kind: 'fake',
    options: [
      option('url', { target: 'server-url' }),
      option('apiBaseUrl', { target: 'admin-endpoint', default: 'https://api.example.com' }),
      option('root', { target: 'local-folder' }),
      option('host', { target: 'server-host' }),
    ],
    requestHosts: ['example-content.com'],
  } as unknown as ConnectorDescriptor;

  it('should take the URL options, their defaults when unset, and the declared domains', () => {
    const hosts = connectorHosts(descriptor, {
      config: { url: 'http://127.0.0.1:9000/dav/', root: '/x', host: 'sftp.lan' },
      secrets: {},
    });

    expect(hosts).toEqual(['127.0.0.1:9000', 'api.example.com', 'example-content.com']);
  });
});
