import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Hosts the emulator pretends to be; absolute URLs it returns use them (https, like the service). */
export const EMULATOR_HOSTS = {
  graph: 'graph.microsoft.com',
  login: 'login.microsoftonline.com',
  upload: 'upload.onedrive.fake.test',
  download: 'download.onedrive.fake.test',
  monitor: 'monitor.onedrive.fake.test',
} as const;

export type HostRole = keyof typeof EMULATOR_HOSTS | 'control';

/** Fragments of an upload session must be multiples of this, except the last (320 KiB). */
export const FRAGMENT_ALIGNMENT = 320 * 1024;
/** Largest fragment the service takes in one PUT. */
export const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;
/** Largest simple PUT /content body. */
export const MAX_SIMPLE_UPLOAD_BYTES = 250 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function sendGraphError(res: ServerResponse, e: HttpError, clientRequestId?: string): void {
  const requestId = randomUUID();
  const body = {
    error: {
      code: e.code,
      message: e.message,
      ...(e.innerCode ? { innererror: { code: e.innerCode } } : {}),
      innerError: {
        date: new Date().toISOString(),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
  sendJson(res, e.status, body, { ...e.headers, 'request-id': requestId });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type':
      'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Reads a small JSON request body (limit 1 MiB); 400 invalidRequest when it is not JSON. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1024 * 1024)
      throw new HttpError(413, 'requestEntityTooLarge', 'The request body is too large.');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'invalidRequest', 'Invalid request body: expected a JSON object.');
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function base64url(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

export function fromBase64url<T>(s: string): T | undefined {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` against a size: [start, endExclusive], or 'unsatisfiable'. */
export function parseRangeHeader(
  value: string,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || (m[2] !== '' && Number(m[2]) < start)) return 'unsatisfiable';
  return [start, end + 1];
}
