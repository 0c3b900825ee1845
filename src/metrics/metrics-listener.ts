import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { MetricsService } from './metrics.service.js';

/**
 * METRICS_LISTEN (`127.0.0.1:9464`): /metrics on an address of its own, outside the API (no
 * user, no session, no web UI), as exporters usually are. With METRICS_TOKEN a scrape needs
 * `Authorization: Bearer <METRICS_TOKEN>`; without it, keep the address private (loopback or a
 * network only Prometheus reaches).
 */
export class MetricsListener {
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    private readonly listen: { host: string; port: number },
    private readonly token: string | undefined,
  ) {}

  async start(): Promise<{ port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      if (this.token && !this.authorized(req.headers.authorization)) {
        res
          .writeHead(401, { 'content-type': 'text/plain' })
          .end('Authorization: Bearer <METRICS_TOKEN> required\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) =>
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.server = server;
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : this.listen.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private authorized(header: string | undefined): boolean {
    const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
    const expected = Buffer.from(this.token!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
