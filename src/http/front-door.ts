import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express } from 'express';
import proxyAddr from 'proxy-addr';
import type { LoginGate } from '../auth/login-gate.js';

/**
 * The first code that sees each request, ahead of Express: sign-ins go through the LoginGate
 * here, so a flood of them is refused for little more than Node's own HTTP work.
 *
 * Measured (docs/benchmarks.md, "Sign-in flood"): through Express, a refused sign-in cost ~0.85
 * ms of CPU (the router, helmet's headers, `res.json` with its ETag, ...). 300 of them land in
 * one burst on the one event loop, and a health check behind them waited 0.3-0.7 s.
 */
export function installFrontDoor(app: NestExpressApplication, gate: LoginGate): void {
  const server = app.getHttpServer() as Server;
  const express = app.getHttpAdapter().getInstance() as Express;
  if (!server.listeners('request').includes(express)) {
    throw new Error('the HTTP server does not hand its requests to Express: no front door');
  }
  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && isSignInPath(req.url ?? '')) {
      // The same client address as Express's req.ip: its 'trust proxy' function, read per
      // request because createApp sets it after this is installed.
      const address = proxyAddr(req, express.get('trust proxy fn') as (a: string) => boolean);
      gate.admit(res, address, () => express(req, res));
      return;
    }
    express(req, res);
  });
}

/**
 * The sign-in routes as Express matches them: case-insensitive, one trailing slash allowed, any
 * query. A spelling Express routes to the sign-in must not pass the gate.
 */
export function isSignInPath(url: string): boolean {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path.length !== '/api/auth/login'.length) return false;
  path = path.toLowerCase();
  return path === '/api/auth/login' || path === '/api/auth/setup';
}
