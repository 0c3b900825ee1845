import type { IncomingMessage, ServerResponse } from 'node:http';

/** Small HTTP helpers shaped like Dropbox's answers. */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string | Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

let dotCounter = 0;

/** `error_summary` ends in a varying run of dots on the real service: clients must match prefixes. */
export function summaryOf(tags: string): string {
  dotCounter = (dotCounter + 1) % 3;
  return `${tags}/${'.'.repeat(dotCounter + 1)}`;
}

export function endpointError(error: Record<string, unknown>, tags: string): HttpError {
  return new HttpError(409, { error_summary: summaryOf(tags), error });
}

/** 400 with a plain-text body, as Dropbox answers malformed requests. */
export function badRequest(route: string, what: string): HttpError {
  return new HttpError(400, `Error in call to API function "${route}": ${what}`);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendHttpError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (typeof e.body === 'string') sendText(res, e.status, e.body, e.headers);
  else sendJson(res, e.status, e.body, e.headers);
}

/** The JSON a header may carry: characters U+007F and above escaped as \uXXXX (pure ASCII). */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export async function readSmallBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new HttpError(400, 'Request body too large');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Query string and form fields, plus HTTP Basic client credentials, merged (body wins). */
export function formParams(
  url: URL,
  body: Buffer,
  contentType: string | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of url.searchParams) out.set(k, v);
  if (body.length > 0 && (contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out.set(k, v);
  }
  return out;
}

export function parseBasicAuth(
  header: string | undefined,
): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { id: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
