import {
  AuthExpiredError,
  FatalError,
  InvalidRangeError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
  UnsupportedError,
} from '../../../../src/connectors/connector.errors.js';
import { mapDriveError } from '../../../../src/connectors/google-drive/google-drive.errors.js';

function gaxiosError(status: number, data: unknown, headers: Record<string, string> = {}): Error {
  const e = new Error(`Request failed with status code ${status}`) as Error & {
    status: number;
    response: unknown;
  };
  e.status = status;
  e.response = { status, data, headers: new Headers(headers) };
  return e;
}

function driveBody(status: number, reason: string, message = reason) {
  return { error: { code: status, message, errors: [{ domain: 'usageLimits', reason, message }] } };
}

describe('mapDriveError', () => {
  it('should map 403 userRateLimitExceeded to RateLimitedError with the Retry-After delay', () => {
    const sut = mapDriveError(
      gaxiosError(403, driveBody(403, 'userRateLimitExceeded'), { 'retry-after': '7' }),
      'x',
    );
    expect(sut).toBeInstanceOf(RateLimitedError);
    expect((sut as RateLimitedError).retryAfterMs).toBe(7000);
    expect((sut as RateLimitedError).providerCode).toBe('userRateLimitExceeded');
  });

  it('should map 429 without Retry-After to RateLimitedError without a delay', () => {
    const sut = mapDriveError(gaxiosError(429, driveBody(429, 'rateLimitExceeded')), 'x');
    expect(sut).toBeInstanceOf(RateLimitedError);
    expect((sut as RateLimitedError).retryAfterMs).toBeUndefined();
  });

  it('should map 403 storageQuotaExceeded and dailyLimitExceeded to QuotaExceededError with a clear message', () => {
    const full = mapDriveError(
      gaxiosError(403, driveBody(403, 'storageQuotaExceeded')),
      'uploading a',
    );
    expect(full).toBeInstanceOf(QuotaExceededError);
    expect(full.message).toMatch(/storage quota is full/);
    expect(
      mapDriveError(gaxiosError(403, driveBody(403, 'dailyLimitExceeded')), 'x'),
    ).toBeInstanceOf(QuotaExceededError);
  });

  it('should decide 403 by reason when the reason is a permission problem', () => {
    expect(
      mapDriveError(gaxiosError(403, driveBody(403, 'insufficientFilePermissions')), 'x'),
    ).toBeInstanceOf(FatalError);
    expect(
      mapDriveError(gaxiosError(403, driveBody(403, 'fileNotDownloadable')), 'x'),
    ).toBeInstanceOf(UnsupportedError);
  });

  it('should map a string body (stream responses) by parsing it', () => {
    const sut = mapDriveError(
      gaxiosError(404, JSON.stringify(driveBody(404, 'notFound', 'File not found: abc.'))),
      'x',
    );
    expect(sut).toBeInstanceOf(NotFoundError);
    expect(sut.message).toContain('File not found: abc.');
  });

  it('should map invalid_grant from the token endpoint to AuthExpiredError', () => {
    const sut = mapDriveError(
      gaxiosError(400, {
        error: 'invalid_grant',
        error_description: 'Token has been expired or revoked.',
      }),
      'refresh',
    );
    expect(sut).toBeInstanceOf(AuthExpiredError);
    expect(sut.message).toMatch(/re-authentication needed/);
  });

  it('should map 5xx with Retry-After and network errors to TransientError', () => {
    const s503 = mapDriveError(
      gaxiosError(503, driveBody(503, 'backendError'), { 'retry-after': '2' }),
      'x',
    );
    expect(s503).toBeInstanceOf(TransientError);
    expect((s503 as TransientError).retryAfterMs).toBe(2000);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(mapDriveError(reset, 'x')).toBeInstanceOf(TransientError);
  });

  it('should map 416 to InvalidRangeError and 401 to AuthExpiredError', () => {
    expect(mapDriveError(gaxiosError(416, {}), 'x')).toBeInstanceOf(InvalidRangeError);
    expect(mapDriveError(gaxiosError(401, driveBody(401, 'authError')), 'x')).toBeInstanceOf(
      AuthExpiredError,
    );
  });
});
