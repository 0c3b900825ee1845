import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import serveStatic from 'serve-static';

/**
 * Where `npm run build:web` puts the browser app: `<repo>/web/dist`, found from this file both
 * in the sources (`src/http/`) and in the build (`dist/src/http/`).
 */
export function defaultWebDistDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../web/dist'), resolve(here, '../../../web/dist')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cloud backup engine</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>Cloud backup engine</h1>
<p>The API is running, but the web app has not been built. Run <code>npm run build:web</code>
(or <code>npm run build</code>) and reload this page.</p>
<p>The API and its documentation: <a href="/api/docs">/api/docs</a>.</p>
</body></html>`;

/**
 * Serves the browser app at `/`: its files from `distDir`, and `index.html` for every other GET
 * outside `/api` (the app routes in the URL's hash, so this is only a safety net for reloads of
 * odd paths). Without a build, `/` answers a short page saying how to build it, never a 500.
 */
export function serveWebUi(app: NestExpressApplication, distDir = defaultWebDistDir()): void {
  const index = join(distDir, 'index.html');
  const assets = serveStatic(distDir, {
    index: false,
    // File names under assets/ carry a content hash; index.html must always be revalidated.
    setHeaders: (res, path) => {
      if (path.includes(`${join(distDir, 'assets')}`))
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
  // The app's files never answer for the API: no file can shadow a route, and an API request
  // costs no stat() of a file that is not there (a turn of the thread pool per request).
  app.use((req: Request, res: Response, next: NextFunction) =>
    isApiPath(req.path) ? next() : assets(req, res, next),
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isApiPath(req.path)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    if (!existsSync(index)) {
      res.status(200).type('html').send(NOT_BUILT_PAGE);
      return;
    }
    res.sendFile(index, (err) => {
      if (err && !res.headersSent) res.status(200).type('html').send(NOT_BUILT_PAGE);
    });
  });
}

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/metrics';
}
