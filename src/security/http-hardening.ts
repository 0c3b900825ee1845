import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** Deeper JSON than this is no request of ours (the deepest DTO nests 3 levels). */
export const MAX_JSON_DEPTH = 32;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * helmet's headers with a Content-Security-Policy that fits the web app (Vite's build: module
 * scripts and one stylesheet from this origin, a `data:` favicon, fetches to this origin), no
 * framing by other sites (frame-ancestors 'none' and X-Frame-Options), and no X-Powered-By.
 * The API documentation (Swagger UI) needs inline styles and its own init script.
 */
export function securityHeaders(opts: { https: boolean }): RequestHandler {
  const directives = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    // A LAN install over plain http must not have its requests upgraded to an https it lacks.
    upgradeInsecureRequests: null,
  };
  const app = helmet({
    contentSecurityPolicy: { directives },
    frameguard: { action: 'deny' },
    strictTransportSecurity: opts.https,
  });
  const docs = helmet({
    contentSecurityPolicy: {
      directives: {
        ...directives,
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'https:'],
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: opts.https,
  });
  return (req, res, next) => (req.path.startsWith('/api/docs') ? docs : app)(req, res, next);
}

/**
 * Request bodies of the API are JSON: a form post or text/plain (what a page on another site can
 * send without asking) is refused with 415, which also closes login CSRF.
 */
export function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  if (
    WRITE_METHODS.has(req.method) &&
    req.path.startsWith('/api/') &&
    hasBody &&
    !req.is('application/json')
  ) {
    res.status(415).json({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'send the request body as JSON (Content-Type: application/json)',
    });
    return;
  }
  next();
}

/**
 * After JSON parsing: refuses bodies nested deeper than MAX_JSON_DEPTH, and NUL characters in any
 * string of the body or the query (no name or path may hold one; file systems cut there), with a
 * 400 naming the field.
 */
export function checkParsedInput(req: Request, res: Response, next: NextFunction): void {
  const problem = inspect(req.body, '') ?? inspect(req.query, '');
  if (!problem) return next();
  res
    .status(400)
    .json({ statusCode: 400, error: 'Bad Request', message: problem, problems: [problem] });
}

function inspect(root: unknown, rootPath: string): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: root, path: rootPath, depth: 0 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\0')) return `${path || 'body'}: must not contain a NUL character`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      return `${path || 'body'}: nested deeper than ${MAX_JSON_DEPTH} levels`;
    }
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value as Record<string, unknown>);
    for (const [k, v] of entries) {
      if (k.includes('\0')) return `${path || 'body'}: a key contains a NUL character`;
      stack.push({ value: v, path: path ? `${path}.${k}` : k, depth: depth + 1 });
    }
  }
  return undefined;
}
