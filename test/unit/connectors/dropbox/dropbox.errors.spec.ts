import { DropboxResponseError } from 'dropbox';
import {
  AlreadyExistsError,
  AuthExpiredError,
  CursorExpiredError,
  FatalError,
  InvalidPathError,
  InvalidRangeError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import {
  correctOffsetOf,
  errorTags,
  isExpiredAccessToken,
  mapDropboxError,
} from '../../../../src/connectors/dropbox/dropbox.errors.js';

function fail(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): DropboxResponseError<unknown> {
  return new DropboxResponseError(status, new Headers(headers), body);
}

const endpoint = (summary: string, error: Record<string, unknown> = {}) => ({
  error_summary: summary,
  error,
});

describe('mapDropboxError', () => {
  it.each([
    ['path/not_found/..', 'stat', NotFoundError],
    ['path_lookup/not_found/...', 'remove', NotFoundError],
    ['from_lookup/not_found/.', 'copy', NotFoundError],
    ['path/not_folder/..', 'list', NotADirectoryError],
    ['path/not_file/..', 'read', IsADirectoryError],
    ['path/conflict/folder/..', 'write', IsADirectoryError],
    ['path/conflict/file/..', 'write', NotADirectoryError],
    ['path/conflict/folder/...', 'mkdir', AlreadyExistsError],
    ['to/conflict/file/..', 'copy', AlreadyExistsError],
    ['path/insufficient_space/..', 'write', QuotaExceededError],
    ['path/disallowed_name/.', 'write', InvalidPathError],
    ['reset/..', 'feed', CursorExpiredError],
    ['too_many_write_operations/..', 'write', RateLimitedError],
    ['lookup_failed/not_found/..', 'write', FatalError],
  ] as const)('should map 409 %s during %s', (summary, op, type) => {
    expect(mapDropboxError(fail(409, endpoint(summary)), 'a/b', op)).toBeInstanceOf(type);
  });

  it('should keep the tag chain as providerCode when the summary ends in dots', () => {
    const e = mapDropboxError(fail(409, endpoint('path/not_found/....')), 'x', 'stat');
    expect((e as NotFoundError).providerCode).toBe('path/not_found');
  });

  it('should read Retry-After in seconds when Dropbox answers 429', () => {
    const e = mapDropboxError(
      fail(
        429,
        {
          error_summary: 'too_many_requests/..',
          error: { reason: { '.tag': 'too_many_requests' }, retry_after: 300 },
        },
        { 'Retry-After': '12' },
      ),
      'x',
      'stat',
    );
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterMs).toBe(12_000);
    expect((e as RateLimitedError).providerCode).toBe('too_many_requests');
  });

  it('should fall back to the body retry_after when the header is missing', () => {
    const e = mapDropboxError(
      fail(429, {
        error_summary: 'too_many_write_operations/',
        error: { reason: { '.tag': 'too_many_write_operations' }, retry_after: 3 },
      }),
      'x',
      'write',
    );
    expect((e as RateLimitedError).retryAfterMs).toBe(3000);
    expect((e as RateLimitedError).providerCode).toBe('too_many_write_operations');
  });

  it.each([500, 502, 503, 504])('should make %i a TransientError', (status) => {
    expect(mapDropboxError(fail(status, 'oops'), 'x', 'read')).toBeInstanceOf(TransientError);
  });

  it('should make 507 a QuotaExceededError', () => {
    expect(
      mapDropboxError(fail(507, endpoint('insufficient_space/')), 'x', 'write'),
    ).toBeInstanceOf(QuotaExceededError);
  });

  it('should make invalid_grant from the token endpoint an AuthExpiredError asking for re-authentication', () => {
    const e = mapDropboxError(
      fail(400, {
        error: 'invalid_grant',
        error_description: 'refresh token is invalid or revoked',
      }),
      'oauth2/token',
      'auth',
    );
    expect(e).toBeInstanceOf(AuthExpiredError);
    expect(e.message).toMatch(/re-authentication needed/);
  });

  it('should make 401 invalid_access_token and missing_scope AuthExpiredErrors', () => {
    expect(
      mapDropboxError(fail(401, endpoint('invalid_access_token/')), 'x', 'stat'),
    ).toBeInstanceOf(AuthExpiredError);
    expect(
      mapDropboxError(
        fail(
          401,
          endpoint('missing_scope/..', {
            '.tag': 'missing_scope',
            required_scope: 'files.content.write',
          }),
        ),
        'x',
        'write',
      ),
    ).toBeInstanceOf(AuthExpiredError);
  });

  it('should make a 400 plain-text answer a FatalError carrying the text', () => {
    const e = mapDropboxError(
      fail(400, 'Error in call to API function "files/list_folder": request body: bad'),
      'x',
      'list',
    );
    expect(e).toBeInstanceOf(FatalError);
    expect(e.message).toContain('request body: bad');
  });

  it('should make 416 an InvalidRangeError', () => {
    expect(mapDropboxError(fail(416, 'Range Not Satisfiable'), 'x', 'read')).toBeInstanceOf(
      InvalidRangeError,
    );
  });

  it('should make a socket failure a TransientError', () => {
    const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(mapDropboxError(new TypeError('terminated', { cause }), 'x', 'read')).toBeInstanceOf(
      TransientError,
    );
  });

  it('should pass an AbortError through untouched', () => {
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    expect(mapDropboxError(abort, 'x', 'read')).toBe(abort);
  });
});

describe('Dropbox error helpers', () => {
  it('should read correct_offset at the top level for append and under lookup_failed for finish', () => {
    expect(
      correctOffsetOf(
        fail(
          409,
          endpoint('incorrect_offset/..', { '.tag': 'incorrect_offset', correct_offset: 42 }),
        ),
      ),
    ).toBe(42);
    expect(
      correctOffsetOf(
        fail(
          409,
          endpoint('lookup_failed/incorrect_offset/.', {
            '.tag': 'lookup_failed',
            lookup_failed: { '.tag': 'incorrect_offset', correct_offset: 7 },
          }),
        ),
      ),
    ).toBe(7);
    expect(correctOffsetOf(fail(409, endpoint('path/not_found/')))).toBeUndefined();
  });

  it('should walk nested tags when there is no error_summary', () => {
    expect(errorTags({ error: { '.tag': 'path', path: { '.tag': 'not_found' } } })).toEqual([
      'path',
      'not_found',
    ]);
  });

  it('should recognise 401 expired_access_token only', () => {
    expect(
      isExpiredAccessToken(
        fail(401, endpoint('expired_access_token/', { '.tag': 'expired_access_token' })),
      ),
    ).toBe(true);
    expect(isExpiredAccessToken(fail(401, endpoint('invalid_access_token/')))).toBe(false);
  });
});
