import type { ServerResponse } from 'node:http';

/** One entry of Google's `error.errors[]` array. */
export interface GoogleErrorItem {
  domain: string;
  reason: string;
  message: string;
  location?: string;
  locationType?: string;
}

/** An API error as the real front end sends it (protocols/google-drive.md section 9). */
export class DriveApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
    readonly extraHeaders: Record<string, string> = {},
    readonly location?: { location: string; locationType: string },
  ) {
    super(message);
  }

  body(): unknown {
    const item: GoogleErrorItem = {
      domain: this.domain,
      reason: this.reason,
      message: this.message,
    };
    if (this.location) Object.assign(item, this.location);
    const status = STATUS_NAMES[this.status];
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [item],
        ...(status ? { status } : {}),
      },
    };
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export const driveErrors = {
  notFound: (id: string) =>
    new DriveApiError(
      404,
      'notFound',
      `File not found: ${id}.`,
      'global',
      {},
      {
        location: 'fileId',
        locationType: 'parameter',
      },
    ),
  invalid: (param: string, message = `Invalid Value`) =>
    new DriveApiError(
      400,
      'invalid',
      message,
      'global',
      {},
      { location: param, locationType: 'parameter' },
    ),
  badRequest: (message: string) => new DriveApiError(400, 'badRequest', message),
  required: () =>
    new DriveApiError(
      401,
      'required',
      'Login Required.',
      'global',
      { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' },
      { location: 'Authorization', locationType: 'header' },
    ),
  authError: () =>
    new DriveApiError(
      401,
      'authError',
      'Invalid Credentials',
      'global',
      { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      { location: 'Authorization', locationType: 'header' },
    ),
  userRateLimit: (retryAfterSeconds?: number) =>
    new DriveApiError(
      403,
      'userRateLimitExceeded',
      'User rate limit exceeded.',
      'usageLimits',
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  rateLimit403: (retryAfterSeconds?: number) =>
    new DriveApiError(
      403,
      'rateLimitExceeded',
      'Rate Limit Exceeded',
      'usageLimits',
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  rateLimit429: (retryAfterSeconds?: number) =>
    new DriveApiError(
      429,
      'rateLimitExceeded',
      'Rate Limit Exceeded',
      'usageLimits',
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  dailyLimit: () =>
    new DriveApiError(403, 'dailyLimitExceeded', 'Daily Limit Exceeded', 'usageLimits'),
  storageQuota: () =>
    new DriveApiError(
      403,
      'storageQuotaExceeded',
      "The user's Drive storage quota has been exceeded.",
      'usageLimits',
    ),
  backendError: (status: 500 | 502 | 503 | 504, retryAfterSeconds?: number) =>
    new DriveApiError(
      status,
      'backendError',
      status === 503 ? 'Service Unavailable' : 'Backend Error',
      'global',
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  fileNotDownloadable: () =>
    new DriveApiError(
      403,
      'fileNotDownloadable',
      'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
      'global',
      {},
      { location: 'alt', locationType: 'parameter' },
    ),
  fileNotExportable: () =>
    new DriveApiError(403, 'fileNotExportable', 'Export only supports Docs Editors files.'),
  conversionNotSupported: () =>
    new DriveApiError(
      400,
      'badRequest',
      'The requested conversion is not supported.',
      'global',
      {},
      {
        location: 'convertTo',
        locationType: 'parameter',
      },
    ),
  rangeNotSatisfiable: () =>
    new DriveApiError(416, 'requestedRangeNotSatisfiable', 'Request range not satisfiable'),
  insufficientPermissions: (message: string) =>
    new DriveApiError(403, 'insufficientFilePermissions', message),
};

export function sendDriveError(res: ServerResponse, err: DriveApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.body(), null, 1);
  res.writeHead(err.status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
    Vary: 'Origin, X-Origin',
    ...err.extraHeaders,
  });
  res.end(body);
}
